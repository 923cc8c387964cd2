// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <cstddef>
#include <vector>

#include <poplar/DebugContext.hpp>
#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>
#include <poplar/Tensor.hpp>
#include <poplar/Type.hpp>
#include <popnn/PoolingDef.hpp>

namespace popnn {
namespace pooling {
struct PoolParams {
    PoolingType poolingType;
    std::vector<std::size_t> inputFieldShape;
    std::vector<std::size_t> kernelShape;
    std::vector<unsigned> stride;
    std::vector<int> inputTruncationOrPaddingLower;
    std::vector<int> inputTruncationOrPaddingUpper;
    std::size_t numChannels;
    std::size_t batchSize;
    poplar::Type dType;
    PoolParams(PoolingType poolingType, std::vector<std::size_t> inputFieldShape, std::vector<std::size_t> kernelShape,
               std::vector<unsigned> stride, std::vector<int> inputTruncationOrPaddingLower,
               std::vector<int> inputTruncationOrPaddingUpper, std::size_t numChannels, std::size_t batchSize,
               poplar::Type dType);
};

/** in [N][C][H][W]. */
poplar::Tensor pool(poplar::Graph& graph, const PoolParams& params, const poplar::Tensor& in,
                    poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {},
                    const poplar::OptionFlags& options = {});
poplar::Tensor poolInputGradient(poplar::Graph& graph, const PoolParams& params, const poplar::Tensor& in,
                                 const poplar::Tensor& pooled, const poplar::Tensor& pooledGradient,
                                 bool useScaledGradient, poplar::program::Sequence& prog,
                                 const poplar::DebugContext& debugContext = {},
                                 const poplar::OptionFlags& options = {});
}  // namespace pooling
}  // namespace popnn
