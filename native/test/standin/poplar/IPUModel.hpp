// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplar/Device.hpp>
#include <poplar/OptionFlags.hpp>

namespace poplar {
/** Poplar's CPU simulation of IPUs. */
class IPUModel {
  public:
    explicit IPUModel(const char* ipuVersion = "ipu2");
    unsigned numIPUs;
    unsigned tilesPerIPU;
    Device createDevice(OptionFlags opts = {}, bool accurateHalf = false) const;
};
}  // namespace poplar
