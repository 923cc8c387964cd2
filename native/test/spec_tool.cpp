// Reads a network spec file and prints what the native reader derived from it, so the Java tests can
// compare it with org.dpsgd.model.Network (an independent re-derivation of shapes and parameters).
#include <fstream>
#include <iostream>
#include <sstream>

#include "dpsgd_ipu/NetworkSpec.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: dpsgd_ipu_spec_tool SPEC_FILE\n";
        return 1;
    }
    std::ifstream f(argv[1]);
    if (!f) {
        std::cerr << "error: cannot read " << argv[1] << "\n";
        return 1;
    }
    std::stringstream text;
    text << f.rdbuf();
    try {
        auto spec = dpsgd::ipu::parseNetworkSpec(text.str());
        std::cout << "name " << spec.name << "\n";
        std::cout << "output " << dpsgd::ipu::outputShape(spec.layers, spec.input).str() << "\n";
        for (const auto& p : spec.parameters()) {
            std::cout << "param " << p.name << " ";
            for (std::size_t i = 0; i < p.shape.size(); ++i) std::cout << (i ? "x" : "") << p.shape[i];
            std::cout << " " << p.offset << "\n";
        }
        std::cout << "count " << spec.parameterCount() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    }
    return 0;
}
