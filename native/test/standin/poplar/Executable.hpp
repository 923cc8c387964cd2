// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <istream>
#include <ostream>

namespace poplar {
/** A compiled graph and its programs; move-only; can be serialized and loaded again. */
class Executable {
  public:
    Executable(Executable&& other) noexcept;
    Executable& operator=(Executable&& other) noexcept;
    Executable(const Executable&) = delete;
    ~Executable();
    static Executable deserialize(std::istream& in);
    void serialize(std::ostream& out) const;
};
}  // namespace poplar
