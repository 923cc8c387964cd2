// COMPILE-CHECK STAND-IN (declarations only, not an implementation); see native/test/standin/README.md.
#pragma once
#include <cstddef>
#include <vector>

#include <poplar/ArrayRef.hpp>
#include <poplar/Type.hpp>

namespace poplar {
/** A handle to (a view of) device data; views (slice, reshape, ...) copy nothing. */
class Tensor {
  public:
    Tensor();
    Tensor(const Tensor& other);
    Tensor(Tensor&& other) noexcept;
    Tensor& operator=(const Tensor& other);
    Tensor& operator=(Tensor&& other) noexcept;
    ~Tensor();

    Type elementType() const;
    std::vector<std::size_t> shape() const;
    std::size_t rank() const;
    std::size_t dim(unsigned i) const;
    std::size_t numElements() const;
    bool valid() const;

    Tensor slice(std::size_t begin, std::size_t end, unsigned dimension = 0) const&;
    Tensor reshape(ArrayRef<std::size_t> shape) const&;
    Tensor dimShuffle(ArrayRef<unsigned> permutation) const&;
    Tensor transpose() const&;
    Tensor broadcast(unsigned n, unsigned dimension) const&;
    Tensor flatten() const&;
    Tensor expand(ArrayRef<std::size_t> indices) const&;
    Tensor squeeze(ArrayRef<std::size_t> indices) const&;
    Tensor operator[](std::size_t i) const&;
};

Tensor concat(ArrayRef<Tensor> ts, unsigned dimension = 0);
Tensor concat(const Tensor& first, const Tensor& second, unsigned dimension = 0);
}  // namespace poplar
