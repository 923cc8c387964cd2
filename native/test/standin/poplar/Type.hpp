// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <string>

namespace poplar {
/** A device element type. */
class Type {
  public:
    Type();
    std::string toString() const;
    bool operator==(const Type& other) const;
    bool operator!=(const Type& other) const;
};
extern const Type BOOL;
extern const Type CHAR;
extern const Type UNSIGNED_CHAR;
extern const Type SHORT;
extern const Type UNSIGNED_SHORT;
extern const Type INT;
extern const Type UNSIGNED_INT;
extern const Type LONGLONG;
extern const Type UNSIGNED_LONGLONG;
extern const Type HALF;
extern const Type FLOAT;
}  // namespace poplar
