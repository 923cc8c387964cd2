#include "GraphBuilder.hpp"

#include <stdexcept>
#include <string>
#include <tuple>

#include <poplin/ConvUtil.hpp>
#include <popops/Expr.hpp>
#include <poplin/MatMul.hpp>
#include <popnn/GroupNorm.hpp>
#include <popnn/NonLinearity.hpp>
#include <popops/ElementWise.hpp>
#include <popops/Reduce.hpp>
#include <poputil/TileMapping.hpp>

namespace dpsgd::ipu {

namespace pe = popops::expr;
using poplar::Tensor;
using poplar::program::Sequence;

namespace {

// popnn's default groups channels with a stride (channel c in group c % G). PyTorch, DJL and the
// Java IR group contiguous channels (c / (C/G)); with the default the IPU would normalise different
// channel sets than every other backend, so it is switched off (popnn/GroupNorm.hpp, groupNormalise()).
const poplar::OptionFlags kGroupNormOptions{{"groupNormStridedChannelGrouping", "false"}};

// Epsilon of weight standardisation inside the square root, as the DJL backend (ConvOp.WS_EPS).
constexpr float kWsEps = 1e-5f;

popnn::NonLinearityType nonLinearityOf(LayerKind k) {
    return k == LayerKind::Relu ? popnn::NonLinearityType::RELU : popnn::NonLinearityType::TANH;
}

}  // namespace

GraphBuilder::GraphBuilder(poplar::Graph& graph, const NetworkSpec& spec, const SessionOptions& options)
    : graph_(graph),
      spec_(spec),
      opts_(options),
      type_(options.precision == Precision::FP16 ? poplar::HALF : poplar::FLOAT),
      m_(options.microBatchSize),
      k_(options.multiplicity) {
    const std::string amp = std::to_string(options.availableMemoryProportion);
    // Option names from poplin/Convolution.hpp (createWeights() docs) and poplin/MatMul.hpp.
    convFwd_ = {{"availableMemoryProportion", amp}, {"pass", "TRAINING_FWD"}};
    convBwd_ = {{"availableMemoryProportion", amp}, {"pass", "TRAINING_BWD"}};
    convWu_ = {{"availableMemoryProportion", amp}, {"pass", "TRAINING_WU"}};
    matmul_ = {{"availableMemoryProportion", amp}};
    groupNorm_ = kGroupNormOptions;
    createParams(spec.layers, spec.input);
    auto infos = spec.parameters();
    if (infos.size() != params_.size())
        throw std::logic_error("parameter walk disagrees with NetworkSpec::parameters()");
    for (std::size_t i = 0; i < infos.size(); ++i) {
        if (infos[i].name != params_[i].info.name)
            throw std::logic_error("parameter order mismatch at " + infos[i].name);
        params_[i].info = infos[i];
    }
    grads_.resize(params_.size());
    trainable_.assign(params_.size(), true);
    for (std::size_t i : options.frozen) {
        if (i >= params_.size())
            throw std::invalid_argument("frozen parameter index " + std::to_string(i) + " is out of range (" +
                                        std::to_string(params_.size()) + " parameters)");
        trainable_[i] = false;
    }
}

std::pair<Tensor, Tensor> GraphBuilder::standardise(const Layer& l, Sequence& prog) {
    const std::size_t d = l.in * l.kernel * l.kernel;
    const float invD = 1.0f / static_cast<float>(d);
    Tensor rows = params_[firstParam_.at(&l)].compute.reshape({l.out, d});
    // Statistics in fp32 whatever the compute type: biased variance per output channel.
    Tensor mean =
        popops::reduce(graph_, rows, poplar::FLOAT, {1}, {popops::Operation::ADD}, prog, {l.name + "/ws_mean"});
    popops::mulInPlace(graph_, mean, invD, prog, {l.name + "/ws_mean_scale"});
    Tensor centered = popops::map(graph_, pe::Cast(pe::_1, poplar::FLOAT) - pe::_2,
                                  {rows, mean.reshape({l.out, 1}).broadcast(d, 1)}, prog, {l.name + "/ws_center"});
    Tensor sumSq = popops::reduce(graph_, centered, poplar::FLOAT, {1}, {popops::Operation::SQUARE_ADD}, prog,
                                  {l.name + "/ws_var"});
    Tensor stdev = popops::map(graph_, pe::Sqrt(pe::_1 * pe::Const(invD) + pe::Const(kWsEps)), {sumSq}, prog,
                               {l.name + "/ws_std"});
    Tensor wHat =
        popops::map(graph_, pe::Cast(pe::_1 / pe::_2, type_), {centered, stdev.reshape({l.out, 1}).broadcast(d, 1)},
                    prog, {l.name + "/ws_standardise"});
    return {wHat, stdev};
}

Tensor GraphBuilder::standardisationBackward(const Layer& l, const TapeEntry& e, const Tensor& gHat, Sequence& prog) {
    // Per slot and output channel: (g - mean(g) - w_hat * mean(g * w_hat)) / std, linear in g
    // (ConvOp.standardizationBackward).
    const std::size_t d = l.in * l.kernel * l.kernel;
    const float invD = 1.0f / static_cast<float>(d);
    Tensor g = gHat.reshape({m_, l.out, d});
    Tensor wHat = e.weight.reshape({1, l.out, d}).broadcast(static_cast<unsigned>(m_), 0);
    Tensor meanG =
        popops::reduce(graph_, g, poplar::FLOAT, {2}, {popops::Operation::ADD}, prog, {l.name + "/ws_bwd_mean"});
    Tensor gw = popops::map(graph_, pe::Cast(pe::_1, poplar::FLOAT) * pe::Cast(pe::_2, poplar::FLOAT), {g, wHat}, prog,
                            {l.name + "/ws_bwd_gw"});
    Tensor meanGW =
        popops::reduce(graph_, gw, poplar::FLOAT, {2}, {popops::Operation::ADD}, prog, {l.name + "/ws_bwd_mean_gw"});
    auto spread = [&](const Tensor& t) { return t.reshape({m_, l.out, 1}).broadcast(static_cast<unsigned>(d), 2); };
    Tensor stdev =
        e.wsStd.reshape({1, l.out, 1}).broadcast(static_cast<unsigned>(m_), 0).broadcast(static_cast<unsigned>(d), 2);
    Tensor raw = popops::map(graph_,
                             pe::Cast((pe::Cast(pe::_1, poplar::FLOAT) - pe::_2 * pe::Const(invD) -
                                       pe::Cast(pe::_3, poplar::FLOAT) * pe::_4 * pe::Const(invD)) /
                                          pe::_5,
                                      type_),
                             {g, spread(meanG), wHat, spread(meanGW), stdev}, prog, {l.name + "/ws_bwd"});
    return raw.reshape({m_, l.out, l.in, l.kernel, l.kernel});
}

poplin::ConvParams GraphBuilder::convParams(const Layer& l, Shape in, std::size_t batch) const {
    // poplin/ConvParams.hpp: (inputType, outputType, batchSize, inputFieldShape, kernelShape,
    // inputChannelsPerConvGroup, outputChannelsPerConvGroup, numConvGroups); zero padding is an input
    // transform and the stride an output transform, which gives PyTorch's floor((H + 2p - k) / s) + 1.
    poplin::ConvParams p(type_, type_, batch, {in.h, in.w}, {l.kernel, l.kernel}, l.in, l.out, 1);
    const auto pad = static_cast<unsigned>(l.padding);
    const auto stride = static_cast<unsigned>(l.stride);
    p.inputTransform.paddingLower = {pad, pad};
    p.inputTransform.paddingUpper = {pad, pad};
    p.outputTransform.stride = {stride, stride};
    return p;
}

popnn::pooling::PoolParams GraphBuilder::poolParams(const Layer& l, Shape in) const {
    const int pad = static_cast<int>(l.padding);
    const auto stride = static_cast<unsigned>(l.stride);
    return popnn::pooling::PoolParams(popnn::PoolingType::MAX, {in.h, in.w}, {l.kernel, l.kernel}, {stride, stride},
                                      {pad, pad}, {pad, pad}, in.c, m_ * k_, type_);
}

void GraphBuilder::createParams(const std::vector<Layer>& layers, Shape s) {
    const std::size_t mk = m_ * k_;
    for (const auto& l : layers) {
        const Shape out = outputShape(l, s);
        auto add = [&](const std::string& name, std::vector<std::size_t> shape, Tensor t) {
            ParamInfo info{name, std::move(shape), 0};
            params_.push_back(DeviceParam{info, t});
        };
        auto vector = [&](const std::string& name, std::size_t n) {
            Tensor t = graph_.addVariable(type_, {n}, name);
            poputil::mapTensorLinearly(graph_, t);
            return t;
        };
        switch (l.kind) {
            case LayerKind::Conv: {
                firstParam_[&l] = params_.size();
                // Weights [convGroups=1][out][in][k][k] with the planner's preferred tile layout.
                Tensor w = poplin::createWeights(graph_, convParams(l, s, mk), {l.name + ".weight"}, convFwd_, &cache_);
                add(l.name + ".weight", {l.out, l.in, l.kernel, l.kernel},
                    w.reshape({l.out, l.in, l.kernel, l.kernel}));
                if (l.bias) add(l.name + ".bias", {l.out}, vector(l.name + ".bias", l.out));
                break;
            }
            case LayerKind::GroupNorm:
                firstParam_[&l] = params_.size();
                add(l.name + ".weight", {l.in}, vector(l.name + ".weight", l.in));
                add(l.name + ".bias", {l.in}, vector(l.name + ".bias", l.in));
                break;
            case LayerKind::Linear: {
                firstParam_[&l] = params_.size();
                // y = x W^T: the right-hand operand is W^T [in][out]; the parameter is its transpose view [out][in].
                Tensor rhs = poplin::createMatMulInputRHS(graph_, type_, {mk, l.in}, {l.in, l.out},
                                                          {l.name + ".weight"}, matmul_, &cache_);
                add(l.name + ".weight", {l.out, l.in}, rhs.transpose());
                if (l.bias) add(l.name + ".bias", {l.out}, vector(l.name + ".bias", l.out));
                break;
            }
            case LayerKind::Residual:
                createParams(l.main, s);
                createParams(l.shortcut, s);
                break;
            default:
                break;
        }
        s = out;
    }
}

Tensor GraphBuilder::forward(const Tensor& x, Sequence& prog, bool record) {
    if (record) tape_.clear();
    Tensor logits = forwardList(spec_.layers, x, spec_.input, prog, record ? &tape_ : nullptr);
    return logits.reshape({m_ * k_, spec_.classes});
}

Tensor GraphBuilder::forwardList(const std::vector<Layer>& layers, Tensor x, Shape s, Sequence& prog, Tape* tape) {
    for (const auto& l : layers) {
        TapeEntry* e = nullptr;
        if (tape) {
            tape->push_back(TapeEntry{});
            e = &tape->back();
            e->layer = &l;
            e->inShape = s;
        }
        x = forwardLayer(l, x, s, prog, e);
        s = outputShape(l, s);
    }
    return x;
}

Tensor GraphBuilder::forwardLayer(const Layer& l, Tensor x, Shape s, Sequence& prog, TapeEntry* e) {
    const std::size_t mk = m_ * k_;
    switch (l.kind) {
        case LayerKind::Conv: {
            Tensor w = params_[firstParam_.at(&l)].compute;
            Tensor wsStd;
            if (l.weightStandardized) std::tie(w, wsStd) = standardise(l, prog);
            w = w.reshape({1, l.out, l.in, l.kernel, l.kernel});
            Tensor y = poplin::convolution(graph_, x, w, convParams(l, s, mk), /*transposeAndFlipWeights=*/false, prog,
                                           {l.name}, convFwd_, &cache_);
            if (l.bias) poplin::addBias(graph_, y, params_[firstParam_.at(&l) + 1].compute, prog, {l.name + "/bias"});
            if (e) {
                e->in = x;
                e->weight = w;
                e->wsStd = wsStd;
            }
            return y;
        }
        case LayerKind::GroupNorm: {
            const std::size_t p = firstParam_.at(&l);
            // popnn/GroupNorm.hpp: biased variance (as PyTorch's GroupNorm), fp32 partials.
            auto stats = popnn::gn::groupNormStatistics(
                graph_, x, static_cast<float>(l.eps), prog, static_cast<unsigned>(l.groups),
                /*unbiasedVarEstimate=*/false, /*stableAlgo=*/true, poplar::FLOAT, {l.name}, groupNorm_);
            auto normalised = popnn::gn::groupNormalise(graph_, x, params_[p].compute, params_[p + 1].compute,
                                                        stats.first, stats.second, prog, {l.name}, groupNorm_);
            if (e) {
                e->whitened = normalised.second;
                e->invStdDev = stats.second;
            }
            return normalised.first;
        }
        case LayerKind::Relu:
        case LayerKind::Tanh: {
            Tensor y = popnn::nonLinearity(graph_, nonLinearityOf(l.kind), x, prog, {"activation"});
            if (e) e->out = y;
            return y;
        }
        case LayerKind::MaxPool: {
            Tensor y = popnn::pooling::pool(graph_, poolParams(l, s), x, prog, {"maxpool"});
            if (e) {
                e->in = x;
                e->out = y;
            }
            return y;
        }
        case LayerKind::GlobalAvgPool: {
            Tensor sum = popops::reduce(graph_, x, type_, {2, 3}, {popops::Operation::ADD}, prog, {"gap"});
            Tensor y = popops::mul(graph_, sum, 1.0f / static_cast<float>(s.h * s.w), prog, {"gap/scale"});
            return y.reshape({mk, s.c, 1, 1});
        }
        case LayerKind::Flatten:
            return x.reshape({mk, s.size(), 1, 1});
        case LayerKind::Linear: {
            const std::size_t p = firstParam_.at(&l);
            Tensor x2 = x.reshape({mk, l.in});
            Tensor y =
                poplin::matMul(graph_, x2, params_[p].compute.transpose(), prog, type_, {l.name}, matmul_, &cache_);
            if (l.bias)
                popops::addInPlace(graph_, y, params_[p + 1].compute.reshape({1, l.out}).broadcast(mk, 0), prog,
                                   {l.name + "/bias"});
            if (e) e->in = x2;
            return y.reshape({mk, l.out, 1, 1});
        }
        case LayerKind::Residual: {
            Tensor a = forwardList(l.main, x, s, prog, e ? &e->main : nullptr);
            Tensor b = l.shortcut.empty() ? x : forwardList(l.shortcut, x, s, prog, e ? &e->shortcut : nullptr);
            return popops::add(graph_, a, b, prog, {l.name + "/add"});
        }
    }
    throw std::logic_error("unhandled layer kind");
}

Tensor GraphBuilder::perSlotSum(const Tensor& t, const std::vector<std::size_t>& trailingDims, Sequence& prog,
                                const std::string& name) {
    // [m*K, d1, ...] -> [m, K, d1, ...]; reduce the copies (dim 1) and the requested dims (shifted by one).
    std::vector<std::size_t> shape = t.shape();
    std::vector<std::size_t> split{m_, k_};
    split.insert(split.end(), shape.begin() + 1, shape.end());
    std::vector<std::size_t> dims{1};
    for (auto d : trailingDims) dims.push_back(d + 1);
    return popops::reduce(graph_, t.reshape(split), type_, dims, {popops::Operation::ADD}, prog, {name});
}

std::vector<Tensor> GraphBuilder::backward(const Tensor& dLogits, Sequence& prog) {
    if (tape_.empty()) throw std::logic_error("backward() needs a recorded forward()");
    for (auto& g : grads_) g = Tensor();
    const Shape out = outputShape(spec_.layers, spec_.input);
    backwardList(tape_, dLogits.reshape({m_ * k_, out.c, out.h, out.w}), prog, /*needInputGrad=*/false);
    for (std::size_t i = 0; i < grads_.size(); ++i)
        if (trainable_[i] && !grads_[i].valid()) throw std::logic_error("no gradient for " + params_[i].info.name);
    return grads_;
}

Tensor GraphBuilder::backwardList(Tape& tape, Tensor grad, Sequence& prog, bool needInputGrad) {
    for (std::size_t i = tape.size(); i-- > 0;) grad = backwardLayer(tape[i], grad, prog, i > 0 || needInputGrad);
    return grad;
}

Tensor GraphBuilder::backwardLayer(TapeEntry& e, Tensor grad, Sequence& prog, bool needInputGrad) {
    const Layer& l = *e.layer;
    const Shape s = e.inShape;
    const std::size_t mk = m_ * k_;
    switch (l.kind) {
        case LayerKind::Conv: {
            const std::size_t p = firstParam_.at(&l);
            // Per-slot weight deltas: one weight-update convolution over each slot's K copies
            // (poplin::calculateWeightDeltas, batch K); all m share one plan through the planning cache.
            if (trainable_[p]) {
                const poplin::ConvParams perSlot = convParams(l, s, k_);
                std::vector<Tensor> slots;
                for (std::size_t i = 0; i < m_; ++i) {
                    Tensor zd = grad.slice(i * k_, (i + 1) * k_, 0);
                    Tensor act = e.in.slice(i * k_, (i + 1) * k_, 0);
                    Tensor wd = poplin::calculateWeightDeltas(graph_, zd, act, perSlot, prog, {l.name + "/wd"}, convWu_,
                                                              &cache_);
                    slots.push_back(wd.reshape({1, l.out, l.in, l.kernel, l.kernel}));
                }
                grads_[p] = poplar::concat(slots, 0);
                if (l.weightStandardized) grads_[p] = standardisationBackward(l, e, grads_[p], prog);
            }
            if (l.bias && trainable_[p + 1]) grads_[p + 1] = perSlotSum(grad, {2, 3}, prog, l.name + "/bias_grad");
            if (!needInputGrad) return Tensor();
            // Input gradient: the transposed-and-flipped convolution of the output gradient with the weights the
            // forward pass used (standardised or raw) (poplin::getGradientParams, poplin/ConvUtil.hpp).
            return poplin::convolution(graph_, grad, e.weight, poplin::getGradientParams(convParams(l, s, mk)),
                                       /*transposeAndFlipWeights=*/true, prog, {l.name + "/bwd"}, convBwd_, &cache_);
        }
        case LayerKind::GroupNorm: {
            const std::size_t p = firstParam_.at(&l);
            Tensor gin = popnn::gn::groupNormGradients(graph_, e.whitened, grad, e.invStdDev, params_[p].compute, prog,
                                                       poplar::FLOAT, {l.name + "/bwd"}, groupNorm_);
            // Per-slot affine gradients: dgamma_i = sum_hw g * xhat, dbeta_i = sum_hw g.
            if (trainable_[p]) {
                Tensor prod = popops::mul(graph_, grad, e.whitened, prog, {l.name + "/g_xhat"});
                grads_[p] = perSlotSum(prod, {2, 3}, prog, l.name + "/gamma_grad");
            }
            if (trainable_[p + 1]) grads_[p + 1] = perSlotSum(grad, {2, 3}, prog, l.name + "/beta_grad");
            return gin;
        }
        case LayerKind::Relu:
        case LayerKind::Tanh:
            // popnn/NonLinearity.hpp: the derivative is taken from the non-linearity's output.
            return popnn::nonLinearityInputGradient(graph_, nonLinearityOf(l.kind), e.out, grad, prog,
                                                    {"activation/bwd"});
        case LayerKind::MaxPool:
            return popnn::pooling::poolInputGradient(graph_, poolParams(l, s), e.in, e.out, grad,
                                                     /*useScaledGradient=*/false, prog, {"maxpool/bwd"});
        case LayerKind::GlobalAvgPool: {
            Tensor spread = grad.reshape({mk, s.c, 1, 1}).broadcast(s.h, 2).broadcast(s.w, 3);
            return popops::mul(graph_, spread, 1.0f / static_cast<float>(s.h * s.w), prog, {"gap/bwd"});
        }
        case LayerKind::Flatten:
            return grad.reshape({mk, s.c, s.h, s.w});
        case LayerKind::Linear: {
            const std::size_t p = firstParam_.at(&l);
            Tensor g2 = grad.reshape({mk, l.out});
            // Per-slot weight gradient sum_k g_k^T x_k as a grouped matmul: [m][out][K] x [m][K][in].
            if (trainable_[p]) {
                Tensor a = g2.reshape({m_, k_, l.out}).dimShuffle({0, 2, 1});
                Tensor b = e.in.reshape({m_, k_, l.in});
                grads_[p] = poplin::matMulGrouped(graph_, a, b, prog, type_, {l.name + "/wgrad"}, matmul_, &cache_);
            }
            if (l.bias && trainable_[p + 1]) grads_[p + 1] = perSlotSum(g2, {}, prog, l.name + "/bias_grad");
            if (!needInputGrad) return Tensor();
            Tensor gin =
                poplin::matMul(graph_, g2, params_[p].compute, prog, type_, {l.name + "/bwd"}, matmul_, &cache_);
            return gin.reshape({mk, s.c, s.h, s.w});
        }
        case LayerKind::Residual: {
            Tensor gm = backwardList(e.main, grad, prog, true);
            Tensor gs = l.shortcut.empty() ? grad : backwardList(e.shortcut, grad, prog, true);
            return popops::add(graph_, gm, gs, prog, {l.name + "/bwd_add"});
        }
    }
    throw std::logic_error("unhandled layer kind");
}

}  // namespace dpsgd::ipu
