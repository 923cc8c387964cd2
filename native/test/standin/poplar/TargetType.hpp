// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once

namespace poplar {
enum class TargetType { IPU, IPU_MODEL, CPU };
}  // namespace poplar
