#include "dpsgd_ipu/HostFeeder.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace dpsgd::ipu {

HostFeeder::HostFeeder(const HostLayout& layout)
    : layout_(layout),
      in_(layout.replicas),
      label_(layout.replicas),
      mask_cursor_(layout.replicas),
      norm_(layout.replicas),
      norms_(layout.slotsPerCall(), 0.0f) {}

void HostFeeder::startCall(const float* inputs, const int* labels, const float* mask, std::size_t call) {
    inputs_ = inputs;
    labels_ = labels;
    mask_ = mask;
    call_ = call;
    for (auto* c : {&in_, &label_, &mask_cursor_, &norm_}) std::fill(c->begin(), c->end(), 0);
}

std::size_t HostFeeder::advance(std::vector<std::size_t>& cursor, std::size_t replica, const char* stream) {
    if (replica >= layout_.replicas)
        throw std::logic_error(std::string(stream) + ": replica " + std::to_string(replica) + " out of range");
    // Reading past the replica's A micro-batches would hand it the next replica's examples (or memory past
    // the buffer): refuse instead.
    if (cursor[replica] >= layout_.accumulation)
        throw std::logic_error(std::string(stream) + ": replica " + std::to_string(replica) +
                               " asked for micro-batch " + std::to_string(cursor[replica] + 1) + " of " +
                               std::to_string(layout_.accumulation));
    return cursor[replica]++;
}

void HostFeeder::nextInputs(std::size_t replica, void* dst) {
    const std::size_t a = advance(in_, replica, "inputs");
    const std::size_t n = layout_.inputsPerMicroBatch();
    std::memcpy(dst, inputs_ + layout_.inputOffset(call_, replica) + a * n, n * sizeof(float));
}

void HostFeeder::nextLabels(std::size_t replica, void* dst) {
    const std::size_t a = advance(label_, replica, "labels");
    const std::size_t m = layout_.microBatch;
    static_assert(sizeof(int) == sizeof(unsigned), "labels travel as uint32");
    std::memcpy(dst, labels_ + layout_.slotOffset(call_, replica) + a * m, m * sizeof(int));
}

void HostFeeder::nextMask(std::size_t replica, void* dst) {
    const std::size_t a = advance(mask_cursor_, replica, "mask");
    const std::size_t m = layout_.microBatch;
    std::memcpy(dst, mask_ + layout_.slotOffset(call_, replica) + a * m, m * sizeof(float));
}

void HostFeeder::storeNorms(std::size_t replica, const void* src) {
    const std::size_t a = advance(norm_, replica, "norms");
    const std::size_t m = layout_.microBatch;
    std::memcpy(norms_.data() + replica * layout_.slotsPerReplica() + a * m, src, m * sizeof(float));
}

void HostFeeder::finishCall() const {
    for (std::size_t r = 0; r < layout_.replicas; ++r) {
        for (auto* c : {&in_, &label_, &mask_cursor_}) {
            if ((*c)[r] != layout_.accumulation)
                throw std::logic_error("replica " + std::to_string(r) + " read " + std::to_string((*c)[r]) + " of " +
                                       std::to_string(layout_.accumulation) + " micro-batches from a stream");
        }
    }
}

}  // namespace dpsgd::ipu
