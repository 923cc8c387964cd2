// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <functional>
#include <string>

#include <poplar/ArrayRef.hpp>
#include <poplar/DebugContext.hpp>
#include <poplar/Device.hpp>
#include <poplar/Executable.hpp>
#include <poplar/Graph.hpp>
#include <poplar/OptionFlags.hpp>
#include <poplar/Program.hpp>

namespace poplar {
using ProgressFunc = std::function<void(int, int)>;

/** Compiles a graph and its programs (program i is what Engine::run(i) runs). */
Executable compileGraph(const Graph& graph, ArrayRef<program::Program> programs, const OptionFlags& options = {},
                        ProgressFunc progressCallback = ProgressFunc(), const DebugContext& debugContext = {});

/** Runs the programs of an executable on a device. */
class Engine {
  public:
    Engine(Executable&& exe, const OptionFlags& options = {});
    Engine(Engine&& other) noexcept;
    ~Engine();
    void load(const Device& device);
    void run(unsigned programIndex = 0, const std::string& debugName = "");
    /** One callback for a non-replicated or BROADCAST stream. */
    void connectStreamToCallback(const std::string& handle, std::function<void(void*)> callback);
    /** The callback of replica `replicaIndex` of a replicated stream. */
    void connectStreamToCallback(const std::string& handle, unsigned replicaIndex, std::function<void(void*)> callback);
};
}  // namespace poplar
