// Forward and backward graph of a NetworkSpec with PopLibs, per micro-batch of m slots x K copies,
// producing per-slot parameter gradients. Targets Poplar SDK 3.x; PopLibs signatures as in the public
// graphcore/poplibs headers (mk2-main, 2023): poplin/Convolution.hpp, poplin/ConvUtil.hpp,
// poplin/MatMul.hpp, popnn/GroupNorm.hpp, popnn/Pooling.hpp, popnn/NonLinearity.hpp, popops/Reduce.hpp.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>
#include <poplin/Convolution.hpp>
#include <popnn/Pooling.hpp>

#include "dpsgd_ipu/NetworkSpec.hpp"
#include "dpsgd_ipu/SessionOptions.hpp"

namespace dpsgd::ipu {

/** One trainable parameter on the device: its compute-type tensor, viewed in PyTorch shape. */
struct DeviceParam {
    ParamInfo info;
    poplar::Tensor compute;
};

class GraphBuilder {
  public:
    GraphBuilder(poplar::Graph& graph, const NetworkSpec& spec, const SessionOptions& options);

    poplar::Type computeType() const { return type_; }
    std::size_t samplesPerMicroBatch() const { return m_ * k_; }
    const std::vector<DeviceParam>& params() const { return params_; }

    /**
     * Appends the forward pass of x [m*K, C, H, W] (compute type) to prog and returns the logits
     * [m*K, classes]. With `record`, keeps what backward() needs (one recorded pass at a time).
     */
    poplar::Tensor forward(const poplar::Tensor& x, poplar::program::Sequence& prog, bool record);

    /** Whether parameter i (params() order) is trained; frozen ones (SessionOptions::frozen) get no gradient. */
    bool trainable(std::size_t i) const { return trainable_.at(i); }

    /**
     * Appends the backward pass of the last recorded forward, from dLogits [m*K, classes], and returns
     * one tensor per parameter (params() order) of shape [m, ...parameter shape]: slot i's gradient is
     * the sum over its K copies of the copies' gradients (callers scale dLogits by 1/K for the mean).
     * Frozen parameters' entries are invalid tensors (their gradients are never computed).
     */
    std::vector<poplar::Tensor> backward(const poplar::Tensor& dLogits, poplar::program::Sequence& prog);

  private:
    struct TapeEntry {
        const Layer* layer = nullptr;
        Shape inShape;
        poplar::Tensor in, out, whitened, invStdDev;
        poplar::Tensor weight,
            wsStd;  // the convolution's weights as used (standardised or raw); WS std per output channel
        std::vector<TapeEntry> main, shortcut;
    };
    using Tape = std::vector<TapeEntry>;

    void createParams(const std::vector<Layer>& layers, Shape in);
    poplar::Tensor forwardList(const std::vector<Layer>& layers, poplar::Tensor x, Shape s,
                               poplar::program::Sequence& prog, Tape* tape);
    poplar::Tensor forwardLayer(const Layer& l, poplar::Tensor x, Shape s, poplar::program::Sequence& prog,
                                TapeEntry* e);
    poplar::Tensor backwardList(Tape& tape, poplar::Tensor grad, poplar::program::Sequence& prog, bool needInputGrad);
    poplar::Tensor backwardLayer(TapeEntry& e, poplar::Tensor grad, poplar::program::Sequence& prog,
                                 bool needInputGrad);

    poplin::ConvParams convParams(const Layer& l, Shape in, std::size_t batch) const;
    /** Weight standardisation (as the DJL backend's ConvOp): returns {w_hat [out][d] compute type, std [out] fp32}. */
    std::pair<poplar::Tensor, poplar::Tensor> standardise(const Layer& l, poplar::program::Sequence& prog);
    /** Maps per-slot gradients w.r.t. w_hat [m][out][d] to gradients w.r.t. the raw weight. */
    poplar::Tensor standardisationBackward(const Layer& l, const TapeEntry& e, const poplar::Tensor& gHat,
                                           poplar::program::Sequence& prog);
    popnn::pooling::PoolParams poolParams(const Layer& l, Shape in) const;
    /** Sums t [m*K, d1, ...] over the K copies of each slot and the given trailing dims: [m, kept dims...]. */
    poplar::Tensor perSlotSum(const poplar::Tensor& t, const std::vector<std::size_t>& trailingDims,
                              poplar::program::Sequence& prog, const std::string& name);

    poplar::Graph& graph_;
    const NetworkSpec& spec_;
    const SessionOptions& opts_;
    poplar::Type type_;
    std::size_t m_, k_;
    poplar::OptionFlags convFwd_, convBwd_, convWu_, matmul_, groupNorm_;
    poplin::PlanningCache cache_;
    std::vector<DeviceParam> params_;
    std::vector<bool> trainable_;
    std::map<const Layer*, std::size_t> firstParam_;  // index of a layer's first parameter in params_
    std::vector<poplar::Tensor> grads_;
    Tape tape_;
};

}  // namespace dpsgd::ipu
