#include "dpsgd_ipu/NetworkSpec.hpp"

#include <sstream>
#include <stdexcept>

namespace dpsgd::ipu {

std::string Shape::str() const { return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w); }

std::size_t ParamInfo::size() const {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

namespace {

struct Line {
    std::size_t number;
    std::vector<std::string> tokens;
};

[[noreturn]] void fail(const Line& l, const std::string& why) {
    throw std::invalid_argument("network spec line " + std::to_string(l.number) + ": " + why);
}

std::size_t number(const Line& l, std::size_t i, bool allowZero = false) {
    if (i >= l.tokens.size()) fail(l, "missing field " + std::to_string(i));
    const std::string& t = l.tokens[i];
    if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos)
        fail(l, "field " + std::to_string(i) + " must be a non-negative integer, got '" + t + "'");
    std::size_t v = std::stoull(t);
    if (v == 0 && !allowZero) fail(l, "field " + std::to_string(i) + " must be > 0");
    return v;
}

bool flag(const Line& l, std::size_t i) {
    std::size_t v = number(l, i, true);
    if (v > 1) fail(l, "field " + std::to_string(i) + " must be 0 or 1");
    return v == 1;
}

void arity(const Line& l, std::size_t n) {
    if (l.tokens.size() != n)
        fail(l, "'" + l.tokens[0] + "' takes " + std::to_string(n - 1) + " fields, got " +
                    std::to_string(l.tokens.size() - 1));
}

class Parser {
  public:
    explicit Parser(std::vector<Line> lines) : lines_(std::move(lines)) {}

    NetworkSpec parse() {
        NetworkSpec spec;
        expectHeader();
        const Line& n = next("name");
        arity(n, 2);
        spec.name = n.tokens[1];
        const Line& in = next("input");
        arity(in, 4);
        spec.input = Shape{number(in, 1), number(in, 2), number(in, 3)};
        const Line& cl = next("classes");
        arity(cl, 2);
        spec.classes = number(cl, 1);
        spec.layers = layers({"params"});
        const Line& p = next("params");
        arity(p, 2);
        spec.declaredParams = number(p, 1, true);
        if (pos_ != lines_.size()) fail(lines_[pos_], "unexpected text after 'params'");
        Shape out = outputShape(spec.layers, spec.input);
        if (out.size() != spec.classes)
            throw std::invalid_argument("network spec: output " + out.str() + " does not match " +
                                        std::to_string(spec.classes) + " classes");
        if (spec.parameterCount() != spec.declaredParams)
            throw std::invalid_argument("network spec: layers hold " + std::to_string(spec.parameterCount()) +
                                        " parameters but the trailer says " + std::to_string(spec.declaredParams) +
                                        "; the Java writer and this reader disagree");
        return spec;
    }

  private:
    void expectHeader() {
        if (lines_.empty()) throw std::invalid_argument("network spec is empty");
        const Line& h = lines_[pos_++];
        if (h.tokens.size() != 2 || h.tokens[0] != "dpsgd-network" || h.tokens[1] != "v1")
            fail(h, "expected header 'dpsgd-network v1'");
    }

    const Line& next(const std::string& keyword) {
        if (pos_ >= lines_.size()) throw std::invalid_argument("network spec ends early: expected '" + keyword + "'");
        const Line& l = lines_[pos_++];
        if (l.tokens[0] != keyword) fail(l, "expected '" + keyword + "', got '" + l.tokens[0] + "'");
        return l;
    }

    // Reads layers until one of the terminators (not consumed).
    std::vector<Layer> layers(const std::vector<std::string>& terminators) {
        std::vector<Layer> out;
        while (true) {
            if (pos_ >= lines_.size()) throw std::invalid_argument("network spec ends inside a layer list");
            const Line& l = lines_[pos_];
            for (const auto& t : terminators)
                if (l.tokens[0] == t) return out;
            ++pos_;
            out.push_back(layer(l));
        }
    }

    Layer layer(const Line& l) {
        const std::string& k = l.tokens[0];
        Layer y{};
        if (k == "conv") {
            arity(l, 9);
            y.kind = LayerKind::Conv;
            y.name = l.tokens[1];
            y.in = number(l, 2);
            y.out = number(l, 3);
            y.kernel = number(l, 4);
            y.stride = number(l, 5);
            y.padding = number(l, 6, true);
            y.bias = flag(l, 7);
            y.weightStandardized = flag(l, 8);
        } else if (k == "groupnorm") {
            arity(l, 5);
            y.kind = LayerKind::GroupNorm;
            y.name = l.tokens[1];
            y.in = y.out = number(l, 2);
            y.groups = number(l, 3);
            try {
                std::size_t used = 0;
                y.eps = std::stod(l.tokens[4], &used);
                if (used != l.tokens[4].size()) throw std::invalid_argument("trailing characters");
            } catch (const std::exception&) {
                fail(l, "eps must be a number, got '" + l.tokens[4] + "'");
            }
            if (!(y.eps > 0)) fail(l, "eps must be > 0");
            if (y.in % y.groups != 0)
                fail(l,
                     std::to_string(y.in) + " channels are not divisible into " + std::to_string(y.groups) + " groups");
        } else if (k == "relu" || k == "tanh") {
            arity(l, 1);
            y.kind = k == "relu" ? LayerKind::Relu : LayerKind::Tanh;
        } else if (k == "maxpool") {
            arity(l, 4);
            y.kind = LayerKind::MaxPool;
            y.kernel = number(l, 1);
            y.stride = number(l, 2);
            y.padding = number(l, 3, true);
        } else if (k == "globalavgpool") {
            arity(l, 1);
            y.kind = LayerKind::GlobalAvgPool;
        } else if (k == "flatten") {
            arity(l, 1);
            y.kind = LayerKind::Flatten;
        } else if (k == "linear") {
            arity(l, 5);
            y.kind = LayerKind::Linear;
            y.name = l.tokens[1];
            y.in = number(l, 2);
            y.out = number(l, 3);
            y.bias = flag(l, 4);
        } else if (k == "residual") {
            arity(l, 2);
            y.kind = LayerKind::Residual;
            y.name = l.tokens[1];
            const Line& m = next("main");
            arity(m, 1);
            y.main = layers({"shortcut"});
            const Line& s = next("shortcut");
            arity(s, 1);
            y.shortcut = layers({"end"});
            const Line& e = next("end");
            arity(e, 1);
        } else {
            fail(l, "unknown layer '" + k +
                        "' (known: conv, groupnorm, relu, tanh, maxpool, globalavgpool, flatten, linear, residual)");
        }
        return y;
    }

    std::vector<Line> lines_;
    std::size_t pos_ = 0;
};

void collect(const std::vector<Layer>& layers, std::vector<ParamInfo>& out, std::size_t& offset) {
    auto add = [&](const std::string& name, std::vector<std::size_t> shape) {
        ParamInfo p{name, std::move(shape), offset};
        offset += p.size();
        out.push_back(std::move(p));
    };
    for (const auto& l : layers) {
        switch (l.kind) {
            case LayerKind::Conv:
                add(l.name + ".weight", {l.out, l.in, l.kernel, l.kernel});
                if (l.bias) add(l.name + ".bias", {l.out});
                break;
            case LayerKind::GroupNorm:
                add(l.name + ".weight", {l.in});
                add(l.name + ".bias", {l.in});
                break;
            case LayerKind::Linear:
                add(l.name + ".weight", {l.out, l.in});
                if (l.bias) add(l.name + ".bias", {l.out});
                break;
            case LayerKind::Residual:
                collect(l.main, out, offset);
                collect(l.shortcut, out, offset);
                break;
            default:
                break;
        }
    }
}

std::size_t pooled(std::size_t in, std::size_t k, std::size_t s, std::size_t p, const std::string& what) {
    if (in + 2 * p < k) throw std::invalid_argument(what + ": input too small for kernel " + std::to_string(k));
    return (in + 2 * p - k) / s + 1;
}

}  // namespace

std::vector<ParamInfo> NetworkSpec::parameters() const {
    std::vector<ParamInfo> out;
    std::size_t offset = 0;
    collect(layers, out, offset);
    return out;
}

std::size_t NetworkSpec::parameterCount() const {
    std::size_t n = 0;
    for (const auto& p : parameters()) n += p.size();
    return n;
}

Shape outputShape(const Layer& l, Shape s) {
    switch (l.kind) {
        case LayerKind::Conv:
            if (s.c != l.in)
                throw std::invalid_argument(l.name + ": expects " + std::to_string(l.in) + " input channels, got " +
                                            s.str());
            return Shape{l.out, pooled(s.h, l.kernel, l.stride, l.padding, l.name),
                         pooled(s.w, l.kernel, l.stride, l.padding, l.name)};
        case LayerKind::GroupNorm:
            if (s.c != l.in)
                throw std::invalid_argument(l.name + ": expects " + std::to_string(l.in) + " channels, got " + s.str());
            return s;
        case LayerKind::Relu:
        case LayerKind::Tanh:
            return s;
        case LayerKind::MaxPool:
            return Shape{s.c, pooled(s.h, l.kernel, l.stride, l.padding, "maxpool"),
                         pooled(s.w, l.kernel, l.stride, l.padding, "maxpool")};
        case LayerKind::GlobalAvgPool:
            return Shape{s.c, 1, 1};
        case LayerKind::Flatten:
            return Shape{s.size(), 1, 1};
        case LayerKind::Linear:
            if (s.size() != l.in || s.h != 1 || s.w != 1)
                throw std::invalid_argument(l.name + ": expects a flat input of " + std::to_string(l.in) + ", got " +
                                            s.str());
            return Shape{l.out, 1, 1};
        case LayerKind::Residual: {
            Shape a = outputShape(l.main, s);
            Shape b = outputShape(l.shortcut, s);
            if (a != b) throw std::invalid_argument(l.name + ": branch shapes differ: " + a.str() + " vs " + b.str());
            return a;
        }
    }
    throw std::logic_error("unhandled layer kind");
}

Shape outputShape(const std::vector<Layer>& layers, Shape s) {
    for (const auto& l : layers) s = outputShape(l, s);
    return s;
}

NetworkSpec parseNetworkSpec(const std::string& text) {
    std::vector<Line> lines;
    std::istringstream in(text);
    std::string raw;
    std::size_t n = 0;
    while (std::getline(in, raw)) {
        ++n;
        std::istringstream ls(raw);
        Line l{n, {}};
        std::string tok;
        while (ls >> tok) l.tokens.push_back(tok);
        if (!l.tokens.empty()) lines.push_back(std::move(l));
    }
    return Parser(std::move(lines)).parse();
}

}  // namespace dpsgd::ipu
