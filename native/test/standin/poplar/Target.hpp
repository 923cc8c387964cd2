// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplar/TargetType.hpp>

namespace poplar {
/** The hardware a graph is built for (tiles, memory, IPUs). */
class Target {
  public:
    Target(const Target& other);
    ~Target();
    TargetType getTargetType() const;
    unsigned getNumIPUs() const;
    unsigned getTilesPerIPU() const;
    unsigned getNumTiles() const;
    unsigned getBytesPerTile() const;
};
}  // namespace poplar
