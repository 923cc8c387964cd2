// The network IR as the Java side sends it (org.dpsgd.ipu.NetworkSpecWriter; format in docs/ipu.md).
// Pure C++17: no Poplar, so it is compiled and unit-tested without the SDK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpsgd::ipu {

/** Per-sample activation shape [C, H, W] (no batch axis), as in org.dpsgd.model.Shape. */
struct Shape {
    std::size_t c = 0, h = 0, w = 0;
    std::size_t size() const { return c * h * w; }
    bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
    bool operator!=(const Shape& o) const { return !(*this == o); }
    std::string str() const;
};

enum class LayerKind { Conv, GroupNorm, Relu, Tanh, MaxPool, GlobalAvgPool, Flatten, Linear, Residual };

/** One trainable tensor, in the Java flat vector's order and PyTorch layout. */
struct ParamInfo {
    std::string name;
    std::vector<std::size_t> shape;
    std::size_t offset = 0;  // in the flat parameter vector
    std::size_t size() const;
};

struct Layer {
    LayerKind kind;
    std::string name;             // conv, groupnorm, linear, residual
    std::size_t in = 0, out = 0;  // conv/linear channels or features; groupnorm: channels in `in`
    std::size_t kernel = 0, stride = 1, padding = 0;
    std::size_t groups = 0;
    double eps = 0;
    bool bias = false;
    bool weightStandardized = false;
    std::vector<Layer> main, shortcut;  // residual branches (empty shortcut = identity)
};

struct NetworkSpec {
    std::string name;
    Shape input;
    std::size_t classes = 0;
    std::vector<Layer> layers;
    std::size_t declaredParams = 0;

    /** Parameters depth first, a layer's own before a residual's main, then shortcut (as Network.parameters()). */
    std::vector<ParamInfo> parameters() const;
    std::size_t parameterCount() const;
};

/** Parses the text; throws std::invalid_argument naming the line and the problem. */
NetworkSpec parseNetworkSpec(const std::string& text);

/** Output shape of a layer list; throws std::invalid_argument on a mismatch (mirrors Layer.outputShape). */
Shape outputShape(const std::vector<Layer>& layers, Shape in);
Shape outputShape(const Layer& layer, Shape in);

}  // namespace dpsgd::ipu
