// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once

namespace popnn {
enum class NonLinearityType { SIGMOID, HARD_SIGMOID, RELU, TANH, GELU, SWISH, SOFTMAX, SOFTMAX_STABLE, SOFTMAX_SCALED };
}  // namespace popnn
