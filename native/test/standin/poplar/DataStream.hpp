// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <cstddef>
#include <string>

#include <poplar/Type.hpp>

namespace poplar {
/** A host<->device FIFO, created by Graph::addHostToDeviceFIFO / addDeviceToHostFIFO. */
class DataStream {
  public:
    DataStream();
    DataStream(const DataStream& other);
    DataStream& operator=(const DataStream& other);
    ~DataStream();
    std::string handle() const;
    std::size_t numElements() const;
    Type elementType() const;
};
}  // namespace poplar
