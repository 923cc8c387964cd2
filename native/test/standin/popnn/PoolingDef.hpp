// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once

namespace popnn {
enum class PoolingType { MAX, AVG, SUM };
}  // namespace popnn
