// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <cstddef>
#include <vector>

#include <poplar/Type.hpp>

namespace poplin {
/** The parameters of a convolution (batch, field, kernel, channels, groups, transforms). */
struct ConvParams {
    struct InputTransform {
        std::vector<unsigned> truncationLower, truncationUpper, dilation, paddingLower, paddingUpper;
        std::vector<bool> flip;
    };
    struct OutputTransform {
        std::vector<unsigned> truncationLower, truncationUpper, stride, paddingLower, paddingUpper;
    };
    poplar::Type inputType;
    poplar::Type outputType;
    std::size_t batchSize;
    std::vector<std::size_t> inputFieldShape;
    std::vector<std::size_t> kernelShape;
    std::size_t inputChannelsPerConvGroup;
    std::size_t outputChannelsPerConvGroup;
    std::size_t numConvGroups;
    InputTransform inputTransform;
    InputTransform kernelTransform;
    OutputTransform outputTransform;

    ConvParams();
    ConvParams(poplar::Type dataType, std::size_t batchSize, std::vector<std::size_t> inputFieldShape,
               std::vector<std::size_t> kernelShape, std::size_t inputChannels, std::size_t outputChannels,
               std::size_t numConvGroups);
    ConvParams(poplar::Type inputType, poplar::Type outputType, std::size_t batchSize,
               std::vector<std::size_t> inputFieldShape, std::vector<std::size_t> kernelShape,
               std::size_t inputChannels, std::size_t outputChannels, std::size_t numConvGroups);
};
}  // namespace poplin
