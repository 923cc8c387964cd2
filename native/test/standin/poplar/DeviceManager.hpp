// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <vector>

#include <poplar/Device.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/TargetType.hpp>

namespace poplar {
/** Lists the devices of this host; getDevices offers groups of requiredNumIPUs IPUs (powers of two). */
class DeviceManager {
  public:
    DeviceManager();
    DeviceManager(DeviceManager&& other) noexcept;
    ~DeviceManager();
    static DeviceManager createDeviceManager();
    std::size_t getNumDevices() const;
    std::vector<Device> getDevices() const;
    std::vector<Device> getDevices(TargetType type, unsigned requiredNumIPUs, const OptionFlags& opts = {}) const;
    Device getDevice(unsigned deviceManagerId, const OptionFlags& opts = {}) const;
};
}  // namespace poplar
