// Session options as the Java side sends them (org.dpsgd.ipu.IpuSettings#toNativeOptions), and the
// host buffer layout they imply. Pure C++17: compiled and unit-tested without the Poplar SDK.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd_ipu/NetworkSpec.hpp"

namespace dpsgd::ipu {

enum class Precision { FP32, FP16 };

/** Where noise and the optimizer step run. */
enum class UpdateMode {
    Host,   // device returns the cross-replica clipped sum; common/ adds noise and updates (the SPI path)
    Device  // noise (host-streamed in secure mode, poprand in fast mode), scaling and SGD-momentum on device
};

struct SessionOptions {
    std::size_t replicas = 1;
    std::size_t microBatchSize = 1;  // m: slots per micro-batch (1 = NanoBatch)
    std::size_t accumulation = 1;    // A: micro-batches per replica per device call (on-device Repeat)
    std::size_t multiplicity = 1;    // K: augmented copies per slot, averaged before clipping
    Precision precision = Precision::FP32;
    bool stochasticRounding = true;  // only meaningful with fp16
    double availableMemoryProportion = 0.6;
    std::string executableCache;  // directory; empty = no cache
    UpdateMode update = UpdateMode::Host;
    bool secureNoise = true;          // device update: stream host CSPRNG noise (true) or poprand::normal (false)
    std::uint64_t seed = 0;           // device update with poprand only
    double momentum = 0.0;            // device update only
    bool nesterov = false;            // device update only
    bool ipuModel = false;            // run on Poplar's IPU Model simulator instead of hardware (testing)
    float lossScale = 1.0f;           // static loss scale S (a power of two): backward runs on S * loss, norms and
                                      // factors divide S out in fp32; fp16 only (fp32 accepts only 1)
    std::vector<std::size_t> frozen;  // indices (NetworkSpec::parameters() order) of frozen parameter tensors:
                                      // no gradient, not clipped, nothing added to the sum
    std::size_t instances = 1;        // poprun instances (host processes) of the run; `replicas` is each one's share
    std::size_t instanceIndex = 0;    // this instance, 0 <= instanceIndex < instances (its MPI rank)

    std::size_t slotsPerCall() const { return replicas * accumulation * microBatchSize; }
    /** Replicas of the whole run: the graph's replication factor; GCL's all-reduce spans all of them. */
    std::size_t globalReplicas() const { return replicas * instances; }
    /** The first global replica this instance runs (Poplar's target.firstRuntimeReplica). */
    std::size_t replicaOffset() const { return instanceIndex * replicas; }
};

/** Parses "key=value" lines; throws std::invalid_argument naming the key and the accepted values. */
SessionOptions parseSessionOptions(const std::string& text);

/**
 * Poplar engine and compile options of one instance of a multi-instance (poprun) run; empty for one
 * instance. The graph is compiled for all instances' replicas, and each instance runs its own
 * contiguous subset of them ("runtime replica subset", as the Poplar frameworks do it: TensorFlow's IPU
 * PoplarCompiler and PopART's EngineOptionsCreator set exactly these three keys).
 */
std::vector<std::pair<std::string, std::string>> runtimeReplicaOptions(const SessionOptions& o);

/**
 * Target creation options from the text of POPLAR_TARGET_OPTIONS, which poprun exports to every instance
 * with the V-IPU partition's IPU-Link settings (a flat JSON object of strings, e.g.
 * {"ipuLinkDomainSize":"64","ipuLinkTopology":"torus"}); empty text gives none. Throws
 * std::invalid_argument on anything else, naming the variable.
 */
std::vector<std::pair<std::string, std::string>> parseTargetOptions(const std::string& json);

/** Poplar's limit on one stream buffer (DataStream documentation: 128 MB). */
constexpr std::size_t kMaxStreamBytes = 128000000;

/**
 * Splits a host transfer of `elements` values of `elementBytes` bytes into consecutive [begin, end)
 * ranges of at most maxBytes each (one stream per range): the parameter, gradient and noise streams of
 * models above ~32 M fp32 parameters would otherwise exceed Poplar's per-stream limit.
 */
std::vector<std::pair<std::size_t, std::size_t>> streamChunks(std::size_t elements, std::size_t elementBytes,
                                                              std::size_t maxBytes = kMaxStreamBytes);

/**
 * The executable cache key: a stable 64-bit FNV-1a hash (hex) over the network spec, the session
 * options, this library's version (DPSGD_IPU_VERSION: version and a hash of native/src, set by CMake)
 * and the Poplar SDK's version and package hash, each length-prefixed so no two inputs can collide by
 * concatenation. std::hash is not used: it may differ between builds, so a cache would never hit, or
 * worse, two builds could disagree about what a key means.
 */
std::string executableCacheKey(const std::string& spec, const std::string& options, const std::string& libraryVersion,
                               const std::string& sdkVersion);

/**
 * Host buffers of one device call, replica-major as org.dpsgd.backend.BatchLayout#slot orders them:
 * replica r's slots are [r*A*m, (r+1)*A*m), so each replica's stream reads one contiguous range.
 */
struct HostLayout {
    std::size_t replicas, accumulation, microBatch, multiplicity, sampleSize;

    HostLayout(const SessionOptions& o, const Shape& input)
        : replicas(o.replicas),
          accumulation(o.accumulation),
          microBatch(o.microBatchSize),
          multiplicity(o.multiplicity),
          sampleSize(input.size()) {}

    std::size_t slotsPerReplica() const { return accumulation * microBatch; }
    std::size_t slotsPerCall() const { return replicas * slotsPerReplica(); }
    /** Elements of one micro-batch's input on the device: [m*K, C, H, W]. */
    std::size_t inputsPerMicroBatch() const { return microBatch * multiplicity * sampleSize; }
    std::size_t inputsPerReplica() const { return accumulation * inputsPerMicroBatch(); }
    std::size_t inputsPerCall() const { return replicas * inputsPerReplica(); }
    std::size_t inputOffset(std::size_t call, std::size_t replica) const {
        return call * inputsPerCall() + replica * inputsPerReplica();
    }
    std::size_t slotOffset(std::size_t call, std::size_t replica) const {
        return call * slotsPerCall() + replica * slotsPerReplica();
    }
};

}  // namespace dpsgd::ipu
