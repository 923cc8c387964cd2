// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplar/DebugContext.hpp>
#include <poplar/Graph.hpp>
#include <poplar/Program.hpp>
#include <poplar/Tensor.hpp>
#include <popnn/NonLinearityDef.hpp>

namespace popnn {
poplar::Tensor nonLinearity(poplar::Graph& graph, NonLinearityType nonLinearityType, poplar::Tensor t,
                            poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {});
/** The input gradient from the non-linearity's output activations and output gradient. */
poplar::Tensor nonLinearityInputGradient(poplar::Graph& graph, NonLinearityType nonLinearityType, poplar::Tensor act,
                                         poplar::Tensor outGradient, poplar::program::Sequence& prog,
                                         const poplar::DebugContext& debugContext = {});
}  // namespace popnn
