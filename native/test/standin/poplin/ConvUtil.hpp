// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplin/ConvParams.hpp>

namespace poplin {
/** The parameters of the convolution that gives the input gradient of params' convolution. */
ConvParams getGradientParams(const ConvParams& params);
ConvParams getWeightUpdateParams(const ConvParams& fwdParams);
}  // namespace poplin
