// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <string>

namespace poplar {
/** Names an operation for profiles and error messages; implicitly built from a string. */
class DebugContext {
  public:
    DebugContext();
    DebugContext(const char* name);
    DebugContext(std::string name);
    DebugContext(const DebugContext& parent, std::string name);
};
}  // namespace poplar
