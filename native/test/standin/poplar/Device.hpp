// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <poplar/Target.hpp>

namespace poplar {
/** One (multi-IPU) device; move-only. */
class Device {
  public:
    Device();
    Device(Device&& other) noexcept;
    Device& operator=(Device&& other) noexcept;
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;
    ~Device();
    bool attach() const;
    void detach() const;
    unsigned getId() const;
    const Target& getTarget() const;
};
}  // namespace poplar
