// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once

namespace poplar {
/** Whether each replica has its own host stream (REPLICATE) or all read one buffer (BROADCAST). */
enum class ReplicatedStreamMode { REPLICATE, BROADCAST };
}  // namespace poplar
