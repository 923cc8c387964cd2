// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <array>
#include <cstddef>
#include <initializer_list>
#include <vector>

namespace poplar {
/** A non-owning view of a contiguous sequence (vector, initializer list, array, pointer + size). */
template <class T>
class ArrayRef {
  public:
    ArrayRef();
    ArrayRef(const T* data, std::size_t size);
    ArrayRef(const std::vector<T>& v);
    ArrayRef(std::initializer_list<T> list);
    template <std::size_t N>
    ArrayRef(const std::array<T, N>& a);
    std::size_t size() const;
    const T* data() const;
    const T& operator[](std::size_t i) const;
    const T* begin() const;
    const T* end() const;
};
}  // namespace poplar
