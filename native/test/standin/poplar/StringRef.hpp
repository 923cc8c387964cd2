// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <string>

namespace poplar {
/** A non-owning view of a string (poplar/StringRef.hpp, Poplar API reference, SDK 3.x). */
class StringRef {
  public:
    StringRef(const char* s);
    StringRef(const std::string& s);
    operator std::string() const;
};
}  // namespace poplar
