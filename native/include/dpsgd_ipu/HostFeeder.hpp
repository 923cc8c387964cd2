// The host side of the per-replica streams: which bytes each replica's FIFO callback receives. Pure
// C++17 (no Poplar), so the slot arithmetic that decides which example meets which mask is unit-tested
// without the SDK; native/src/IpuSession.cpp only forwards its stream callbacks here.
#pragma once

#include <cstddef>
#include <vector>

#include "dpsgd_ipu/SessionOptions.hpp"

namespace dpsgd::ipu {

class HostFeeder {
  public:
    explicit HostFeeder(const HostLayout& layout);

    /** Points the feeder at call `call` of the caller's buffers (BatchLayout.slot order, see HostLayout). */
    void startCall(const float* inputs, const int* labels, const float* mask, std::size_t call);

    /** The next micro-batch of replica r, in the order the on-device Repeat reads them. */
    void nextInputs(std::size_t replica, void* dst);  // m*K*C*H*W floats
    void nextLabels(std::size_t replica, void* dst);  // m uint32 (labels are >= 0)
    void nextMask(std::size_t replica, void* dst);    // m floats
    /** Per-slot norms the device streams out after each micro-batch of replica r. */
    void storeNorms(std::size_t replica, const void* src);

    /** Throws std::logic_error unless every stream of every replica delivered exactly A micro-batches. */
    void finishCall() const;

    /** Norms of the last finished call, one per slot in BatchLayout.slot order. */
    const std::vector<float>& norms() const { return norms_; }

  private:
    std::size_t advance(std::vector<std::size_t>& cursor, std::size_t replica, const char* stream);

    HostLayout layout_;
    const float* inputs_ = nullptr;
    const int* labels_ = nullptr;
    const float* mask_ = nullptr;
    std::size_t call_ = 0;
    std::vector<std::size_t> in_, label_, mask_cursor_, norm_;
    std::vector<float> norms_;
};

}  // namespace dpsgd::ipu
