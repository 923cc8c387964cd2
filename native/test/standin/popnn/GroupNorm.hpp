// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <utility>

#include <poplar/DebugContext.hpp>
#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>
#include <poplar/Tensor.hpp>
#include <poplar/Type.hpp>

namespace popnn {
namespace gn {
/** Returns {mean, inverse standard deviation} per sample and group. */
std::pair<poplar::Tensor, poplar::Tensor> groupNormStatistics(
    poplar::Graph& graph, const poplar::Tensor acts, float eps, poplar::program::Sequence& prog, unsigned numGroups,
    bool unbiasedVarEstimate, bool stableAlgo = false, const poplar::Type& partialsType = poplar::FLOAT,
    const poplar::DebugContext& debugContext = {}, const poplar::OptionFlags& options = {});
/** Returns {normalised (with gamma, beta), whitened} activations. */
std::pair<poplar::Tensor, poplar::Tensor> groupNormalise(poplar::Graph& graph, const poplar::Tensor& acts,
                                                         const poplar::Tensor& gamma, const poplar::Tensor& beta,
                                                         const poplar::Tensor& mean, const poplar::Tensor& invStdDev,
                                                         poplar::program::Sequence& prog,
                                                         const poplar::DebugContext& debugContext = {},
                                                         const poplar::OptionFlags& options = {});
/** The input gradient, from the whitened activations. */
poplar::Tensor groupNormGradients(poplar::Graph& graph, const poplar::Tensor& actsWhitened,
                                  const poplar::Tensor& gradsIn, const poplar::Tensor& invStdDev,
                                  const poplar::Tensor& gamma, poplar::program::Sequence& prog,
                                  const poplar::Type& partialsType = poplar::FLOAT,
                                  const poplar::DebugContext& debugContext = {},
                                  const poplar::OptionFlags& options = {});
/** The input gradient, from the activations and their statistics. */
poplar::Tensor groupNormGradients(poplar::Graph& graph, const poplar::Tensor& acts, const poplar::Tensor& gradsIn,
                                  const poplar::Tensor& mean, const poplar::Tensor& invStdDev,
                                  const poplar::Tensor& gamma, poplar::program::Sequence& prog,
                                  const poplar::Type& partialsType = poplar::FLOAT,
                                  const poplar::DebugContext& debugContext = {},
                                  const poplar::OptionFlags& options = {});
}  // namespace gn
}  // namespace popnn
