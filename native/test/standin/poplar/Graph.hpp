// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <cstddef>
#include <string>
#include <type_traits>

#include <poplar/ArrayRef.hpp>
#include <poplar/DataStream.hpp>
#include <poplar/DebugContext.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/ReplicatedStreamMode.hpp>
#include <poplar/Target.hpp>
#include <poplar/Tensor.hpp>
#include <poplar/Type.hpp>

namespace poplar {
/** The replication factor of a replicated graph (one copy of the graph per replica). */
class replication_factor {
  public:
    explicit replication_factor(unsigned factor);
    unsigned value;
};

/** The graph of variables, vertices and streams that programs refer to. */
class Graph {
  public:
    explicit Graph(const Target& target);
    Graph(const Target& target, replication_factor r);
    Graph(Graph&& other) noexcept;
    Graph(const Graph&) = delete;
    ~Graph();

    const Target& getTarget() const;
    unsigned getReplicationFactor() const;

    Tensor addVariable(const Type& type, ArrayRef<std::size_t> shape, const DebugContext& debugContext = {});
    template <typename T, typename = typename std::enable_if<std::is_arithmetic<T>::value>::type>
    Tensor addConstant(const Type& type, ArrayRef<std::size_t> shape, T value,
                       const DebugContext& debugContext = {"<const>"});
    Tensor clone(const Tensor& t, const DebugContext& debugContext = {});

    void setTileMapping(const Tensor& t, unsigned tileNum);
    template <typename T>
    void setInitialValue(const Tensor& t, ArrayRef<T> values);

    DataStream addHostToDeviceFIFO(const std::string& handle, const Type& elementType, std::size_t numElements,
                                   ReplicatedStreamMode replicatedMode = ReplicatedStreamMode::REPLICATE,
                                   const OptionFlags& options = {});
    DataStream addDeviceToHostFIFO(const std::string& handle, const Type& elementType, std::size_t numElements,
                                   const OptionFlags& options = {});
};
}  // namespace poplar
