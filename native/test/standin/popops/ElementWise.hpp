// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <type_traits>
#include <vector>

#include <poplar/DebugContext.hpp>
#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>
#include <poplar/Tensor.hpp>
#include <popops/Expr.hpp>

namespace popops {
/** Evaluates an expression over tensors element by element into a new tensor. */
poplar::Tensor map(poplar::Graph& graph, const expr::Expr& expr, const std::vector<poplar::Tensor>& ts,
                   poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {},
                   const poplar::OptionFlags& options = {});
/** As map, writing the result into ts[0]. */
void mapInPlace(poplar::Graph& graph, const expr::Expr& expr, const std::vector<poplar::Tensor>& ts,
                poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {},
                const poplar::OptionFlags& options = {});

#define STANDIN_BINARY_FN(name)                                                                                    \
    poplar::Tensor name(poplar::Graph& graph, const poplar::Tensor& A, const poplar::Tensor& B,                    \
                        poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {},            \
                        const poplar::OptionFlags& options = {});                                                  \
    template <typename T, typename = typename std::enable_if<std::is_arithmetic<T>::value>::type>                  \
    poplar::Tensor name(poplar::Graph& graph, const poplar::Tensor& A, const T B, poplar::program::Sequence& prog, \
                        const poplar::DebugContext& debugContext = {}, const poplar::OptionFlags& options = {});   \
    template <typename T, typename = typename std::enable_if<std::is_arithmetic<T>::value>::type>                  \
    poplar::Tensor name(poplar::Graph& graph, const T A, const poplar::Tensor& B, poplar::program::Sequence& prog, \
                        const poplar::DebugContext& debugContext = {}, const poplar::OptionFlags& options = {});   \
    void name##InPlace(poplar::Graph& graph, const poplar::Tensor& A, const poplar::Tensor& B,                     \
                       poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {},             \
                       const poplar::OptionFlags& options = {});                                                   \
    template <typename T, typename = typename std::enable_if<std::is_arithmetic<T>::value>::type>                  \
    void name##InPlace(poplar::Graph& graph, const poplar::Tensor& A, const T B, poplar::program::Sequence& prog,  \
                       const poplar::DebugContext& debugContext = {}, const poplar::OptionFlags& options = {});

STANDIN_BINARY_FN(add)
STANDIN_BINARY_FN(sub)
STANDIN_BINARY_FN(mul)
STANDIN_BINARY_FN(div)
STANDIN_BINARY_FN(max)
STANDIN_BINARY_FN(min)
#undef STANDIN_BINARY_FN

poplar::Tensor sqrt(poplar::Graph& graph, const poplar::Tensor& A, poplar::program::Sequence& prog,
                    const poplar::DebugContext& debugContext = {}, const poplar::OptionFlags& options = {});
poplar::Tensor square(poplar::Graph& graph, const poplar::Tensor& A, poplar::program::Sequence& prog,
                      const poplar::DebugContext& debugContext = {}, const poplar::OptionFlags& options = {});
/** C ? A : B element by element. */
poplar::Tensor select(poplar::Graph& graph, const poplar::Tensor& A, const poplar::Tensor& B, const poplar::Tensor& C,
                      poplar::program::Sequence& prog, const poplar::DebugContext& debugContext = {},
                      const poplar::OptionFlags& options = {});
}  // namespace popops
