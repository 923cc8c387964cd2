// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplar/OptionFlags.hpp>
#include <poplar/StringRef.hpp>
#include <poplar/TargetType.hpp>

namespace poplar {
/** The hardware a graph is built for (tiles, memory, IPUs). */
class Target {
  public:
    Target(const Target& other);
    ~Target();
    TargetType getTargetType() const;
    /** The target architecture, e.g. "ipu2" (Poplar API reference, poplar::Target). */
    StringRef getTargetArchString() const;
    unsigned getNumIPUs() const;
    unsigned getTilesPerIPU() const;
    unsigned getNumTiles() const;
    unsigned getBytesPerTile() const;
    /**
     * A target of numIPUs IPUs of the given system type with target creation options such as
     * ipuLinkDomainSize or ipuLinkTopology (Poplar API reference, poplar::Target::createIPUTarget, SDK 3.x;
     * graphcore/tensorflow's IPU executor calls it this way for multi-replica distribution).
     */
    static Target createIPUTarget(unsigned numIPUs, StringRef system, const OptionFlags& opts = {});
};
}  // namespace poplar
