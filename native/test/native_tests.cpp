// Unit tests of the Poplar-free C++ (spec reader, options, host layout). Built by CMake (ctest) and
// by the Java test NativeCodeTest with plain g++; no SDK needed.
#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include <vector>

#include "dpsgd_ipu/ClipExpr.hpp"
#include "dpsgd_ipu/HostFeeder.hpp"
#include "dpsgd_ipu/NetworkSpec.hpp"
#include "dpsgd_ipu/SessionOptions.hpp"

using namespace dpsgd::ipu;

static int failures = 0;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n"; \
            ++failures;                                                                \
        }                                                                              \
    } while (0)

static void expectError(const std::function<void()>& f, const std::string& fragment) {
    try {
        f();
        std::cerr << "expected an error containing '" << fragment << "', got none\n";
        ++failures;
    } catch (const std::invalid_argument& e) {
        if (std::string(e.what()).find(fragment) == std::string::npos) {
            std::cerr << "error '" << e.what() << "' lacks '" << fragment << "'\n";
            ++failures;
        }
    }
}

// Named test cases: each registers itself; main runs them all (or those whose name contains argv[1]) and names
// each one that fails, so a failure says which behaviour broke.
struct TestCase {
    const char* name;
    void (*run)();
};

static std::vector<TestCase>& testCases() {
    static std::vector<TestCase> cases;
    return cases;
}

static bool registerCase(const char* name, void (*run)()) {
    testCases().push_back({name, run});
    return true;
}

#define TEST_CASE(name)                                              \
    static void name();                                              \
    static const bool name##Registered = registerCase(#name, &name); \
    static void name()

// A tiny residual net. Parameters by hand: c1 4*3*3*3 = 108; g1 4 + 4; r.c 4*4*3*3 + 4 = 148;
// r.d 4*4 = 16; fc 4*5 + 5 = 25; total 305. The trailer below is deliberately wrong (337).
static const char* kTiny = R"(dpsgd-network v1
name tiny
input 3 8 8
classes 5
conv c1 3 4 3 1 1 0 0
groupnorm g1 4 2 1e-05
relu
residual r
main
conv r.c 4 4 3 2 1 1 0
shortcut
conv r.d 4 4 1 2 0 0 0
end
maxpool 2 2 0
globalavgpool
flatten
linear fc 4 5 1
params 337
)";

// The host dialect of ClipExpr.hpp: an expression is a function of the placeholder values _1.._4,
// evaluated in float (fp32) as the device evaluates popops::expr trees of fp32 operands.
struct HostExpr {
    std::function<float(const std::vector<float>&)> f;
    float operator()(std::vector<float> args) const { return f(args); }
};
static HostExpr bin(HostExpr a, HostExpr b, std::function<float(float, float)> op) {
    return {[a, b, op](const std::vector<float>& v) { return op(a.f(v), b.f(v)); }};
}
static HostExpr operator*(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x * y; });
}
static HostExpr operator/(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x / y; });
}
static HostExpr operator>(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x > y ? 1.0f : 0.0f; });
}
static HostExpr operator<=(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x <= y ? 1.0f : 0.0f; });
}
static HostExpr operator!=(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x != y ? 1.0f : 0.0f; });
}
static HostExpr operator&&(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x != 0 && y != 0 ? 1.0f : 0.0f; });
}
static HostExpr operator||(HostExpr a, HostExpr b) {
    return bin(a, b, [](float x, float y) { return x != 0 || y != 0 ? 1.0f : 0.0f; });
}
struct HostDialect {
    HostExpr p(int i) const {
        return {[i](const std::vector<float>& v) { return v.at(i - 1); }};
    }
    HostExpr c(float x) const {
        return {[x](const std::vector<float>&) { return x; }};
    }
    HostExpr sqrt(HostExpr a) const {
        return {[a](const std::vector<float>& v) { return std::sqrt(a.f(v)); }};
    }
    HostExpr min(HostExpr a, HostExpr b) const {
        return bin(a, b, [](float x, float y) { return std::fmin(x, y); });
    }
    HostExpr max(HostExpr a, HostExpr b) const {
        return bin(a, b, [](float x, float y) { return std::fmax(x, y); });
    }
    HostExpr isFinite(HostExpr a) const {
        return {[a](const std::vector<float>& v) { return std::isfinite(a.f(v)) ? 1.0f : 0.0f; }};
    }
    HostExpr toFloat(HostExpr a) const { return a; }
    HostExpr select(HostExpr a, HostExpr b, HostExpr cond) const {
        return {[a, b, cond](const std::vector<float>& v) { return cond.f(v) != 0 ? a.f(v) : b.f(v); }};
    }
};

// One slot's clipped contribution as the TRAIN program forms it, on the host with the same expressions:
// per-tensor sums of squares of the loss-scaled gradient, group sums via equal group ids, factors, fp32
// products. Returns the weighted (clipped) gradient; nonFiniteOut/clippedOut as the metrics count them.
static std::vector<float> clipSlot(const std::vector<std::vector<float>>& scaledGrads, const std::vector<float>& bounds,
                                   const std::vector<int>& group, float mask, float lossScale, bool* nonFiniteOut,
                                   bool* clippedOut, std::size_t maxTerms = 64) {
    HostDialect x;
    const std::size_t T = scaledGrads.size();
    std::vector<float> sq(T, 0.0f);
    for (std::size_t t = 0; t < T; ++t) {
        // fp32, sequential within each piece as normSplit bounds them: the worst case the margin covers.
        const std::size_t n = scaledGrads[t].size(), c = clip::normSplit(n, maxTerms);
        for (std::size_t b = 0; b < n; b += c) {
            float piece = 0;
            for (std::size_t j = b; j < b + c; ++j) piece += scaledGrads[t][j] * scaledGrads[t][j];
            sq[t] += piece;
        }
    }
    float total = 0;
    for (float v : sq) total += v;
    auto factorExpr = clip::factor(x, lossScale);
    auto clippedExpr = clip::clippedIndicator(x, lossScale);
    auto weightedExpr = clip::weighted(x);
    std::vector<float> out;
    bool clipped = false;
    for (std::size_t t = 0; t < T; ++t) {
        float groupSq = 0;
        for (std::size_t u = 0; u < T; ++u)
            if (group[u] == group[t]) groupSq += sq[u];
        float f = factorExpr({groupSq, bounds[t], total, mask});
        clipped = clipped || clippedExpr({groupSq, bounds[t]}) != 0;
        for (float g : scaledGrads[t]) out.push_back(weightedExpr({g, f}));
    }
    *nonFiniteOut = clip::nonFinite(x)({total, mask}) != 0;
    *clippedOut = clipped && mask > 0 && std::isfinite(total);
    return out;
}

static double groupNorm(const std::vector<float>& flat, const std::vector<std::size_t>& sizes,
                        const std::vector<int>& group, int g) {
    double s = 0;
    std::size_t off = 0;
    for (std::size_t t = 0; t < sizes.size(); ++t) {
        for (std::size_t j = 0; j < sizes[t]; ++j)
            if (group[t] == g) s += static_cast<double>(flat[off + j]) * flat[off + j];
        off += sizes[t];
    }
    return std::sqrt(s);
}

TEST_CASE(clipExpressionsSelectNonFiniteAndPaddingSlotsOutAndKeepTheBound) {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    bool nonFinite = false, clipped = false;
    // NaN or Inf anywhere in a slot, real or padding: the slot adds exactly 0 (selection, not 0 * NaN).
    for (float bad : {nan, inf, -inf}) {
        for (float mask : {0.0f, 1.0f}) {
            auto w = clipSlot({{1.0f, bad}, {2.0f}}, {1.0f, 1.0f}, {0, 0}, mask, 1.0f, &nonFinite, &clipped);
            for (float v : w) CHECK(v == 0.0f);  // exactly 0, never NaN
            CHECK(nonFinite == (mask > 0));      // counted once, only for real slots
            CHECK(!clipped);
        }
    }
    // A finite padding slot adds exactly 0 and is not counted.
    auto pad = clipSlot({{3.0f, 4.0f}}, {1.0f}, {0}, 0.0f, 1.0f, &nonFinite, &clipped);
    CHECK(pad[0] == 0.0f && pad[1] == 0.0f && !nonFinite && !clipped);

    // Flat and per-group clipping against a float64 oracle, with fp16-style loss scales, over seeded
    // random mixed-scale gradients (huge, tiny, subnormal-sized and ordinary elements).
    std::mt19937 rng(20261201);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::uniform_int_distribution<int> expo(-30, 12);
    for (int trial = 0; trial < 400; ++trial) {
        const std::size_t T = 1 + trial % 5;
        std::vector<std::size_t> sizes;
        std::vector<int> group;
        const bool perGroup = trial % 2 == 1;
        const int groups = perGroup ? 1 + trial % 3 : 1;
        std::vector<double> bound(groups);
        for (int g = 0; g < groups; ++g) bound[g] = std::ldexp(1.0 + u(rng) * 0.5, expo(rng) / 3);
        for (std::size_t t = 0; t < T; ++t) {
            sizes.push_back((1 + rng() % 40) *
                            (1 + rng() % 40));  // splits into pieces of <= 64 (the host's stand-in for 4096)
            group.push_back(static_cast<int>(t) % groups);
        }
        const float lossScale = std::ldexp(1.0f, trial % 8);  // 1 .. 128
        std::vector<std::vector<float>> scaled(T);
        std::vector<float> rawFlat;
        const int scaleExp = expo(rng);
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t j = 0; j < sizes[t]; ++j) {
                float g = std::ldexp(u(rng), scaleExp + (j % 7 == 0 ? -20 : 0));
                rawFlat.push_back(g);
                scaled[t].push_back(g * lossScale);  // exact: lossScale is a power of two
            }
        std::vector<float> bounds;
        for (std::size_t t = 0; t < T; ++t) bounds.push_back(static_cast<float>(bound[group[t]]));
        auto w = clipSlot(scaled, bounds, group, 1.0f, lossScale, &nonFinite, &clipped);
        CHECK(!nonFinite);
        for (int g = 0; g < groups; ++g) {
            const double before = groupNorm(rawFlat, sizes, group, g);
            const double after = groupNorm(w, sizes, group, g);
            const double c = static_cast<float>(bound[g]);
            // Never above the group's bound, in exact (float64) arithmetic on the values actually summed.
            CHECK(after <= c);
            // And not far below: the exact clip at C (1 - margin), up to fp32 rounding (unclipped groups unchanged).
            const double expected = before * std::min(1.0, c * (1.0 - clip::kMargin) / before);
            CHECK(std::fabs(after - expected) <= 1e-5 * expected + 1e-300);
        }
    }
}

TEST_CASE(normSplitBoundsBothReductionPieces) {
    // Every split divides n and bounds both pieces; the zoo's largest tensors split well.
    for (std::size_t n :
         {std::size_t(1), std::size_t(4096), std::size_t(4097 * 2), std::size_t(512 * 512 * 9),
          std::size_t(2048 * 1000), std::size_t(64 * 3 * 7 * 7), std::size_t(1000), std::size_t(4096) * 4096}) {
        std::size_t c = clip::normSplit(n);
        CHECK(n % c == 0 && c <= clip::kMaxReductionTerms && n / c <= clip::kMaxReductionTerms);
    }
    CHECK(clip::normSplit(512 * 512 * 9) == 1536);                        // 1536 x 1536: the most balanced split
    expectError([] { clip::normSplit(4099 * 2); }, "cannot be reduced");  // 2 x prime 4099 > 4096
    expectError([] { clip::normSplit(std::size_t(4096) * 4096 + 4096); }, "cannot be reduced");
}

// The device's longest summations (4096 x 4096 elements, pieces of 4096 summed sequentially in fp32,
// values of one sign and similar size so rounding errors pile up): still never above C.
TEST_CASE(clipMarginCoversTheLongestFp32Summation) {
    const std::size_t n = clip::kMaxReductionTerms * clip::kMaxReductionTerms;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.999f, 1.0f);
    std::vector<float> g(n);
    for (auto& v : g) v = u(rng) * 1e-3f;
    const std::size_t c = clip::normSplit(n);
    float sq = 0;
    for (std::size_t b = 0; b < n; b += c) {
        float piece = 0;
        for (std::size_t j = b; j < b + c; ++j) piece += g[j] * g[j];
        sq += piece;
    }
    HostDialect x;
    const float f = clip::factor(x, 1.0f)({sq, 0.5f, sq, 1.0f});
    double after = 0;
    CHECK(clip::weighted(x)({g[0], f}) == g[0] * f);  // the device's product: one fp32 multiply per element
    for (float v : g) {
        const double p = v * f;
        after += p * p;
    }
    CHECK(std::sqrt(after) <= 0.5);
    CHECK(std::sqrt(after) >= 0.5 * (1 - 2 * clip::kMargin));
}

TEST_CASE(streamChunksCacheKeysAndSessionOptionValues) {
    // Chunks tile [0, n) in order, each within the byte limit; 33.5 M fp32 parameters need two streams.
    for (std::size_t n : {std::size_t(1), std::size_t(31999999), std::size_t(32000000), std::size_t(32000001),
                          std::size_t(33554433), std::size_t(100000000)}) {
        auto chunks = streamChunks(n, 4);
        std::size_t next = 0;
        for (auto [b, e] : chunks) {
            CHECK(b == next && e > b && (e - b) * 4 <= kMaxStreamBytes);
            next = e;
        }
        CHECK(next == n);
        CHECK(chunks.size() == (n * 4 + kMaxStreamBytes - 1) / kMaxStreamBytes);
    }
    CHECK(streamChunks(33554433, 4).size() == 2);
    CHECK(streamChunks(10, 4, 12).size() == 4);  // 3 + 3 + 3 + 1
    expectError([] { streamChunks(10, 4, 3); }, "at least one element");

    // The cache key is deterministic and changes with every input, including the library and SDK versions.
    const std::string k = executableCacheKey("spec", "opts", "dpsgd 0.1.0 src abc", "poplar 3.3.0 hash 1");
    CHECK(k == executableCacheKey("spec", "opts", "dpsgd 0.1.0 src abc", "poplar 3.3.0 hash 1"));
    CHECK(k.size() == 16);
    CHECK(k != executableCacheKey("spec2", "opts", "dpsgd 0.1.0 src abc", "poplar 3.3.0 hash 1"));
    CHECK(k != executableCacheKey("spec", "opts2", "dpsgd 0.1.0 src abc", "poplar 3.3.0 hash 1"));
    CHECK(k != executableCacheKey("spec", "opts", "dpsgd 0.1.0 src abd", "poplar 3.3.0 hash 1"));
    CHECK(k != executableCacheKey("spec", "opts", "dpsgd 0.1.0 src abc", "poplar 3.4.0 hash 1"));
    // Length-prefixed: moving a character from one field to the next changes the key.
    CHECK(executableCacheKey("ab", "c", "v", "s") != executableCacheKey("a", "bc", "v", "s"));

    // loss_scale: powers of two in [1, 32768], fp16 only; frozen: a list of parameter indices.
    CHECK(parseSessionOptions("precision=fp16\nloss_scale=128\n").lossScale == 128.0f);
    expectError([] { parseSessionOptions("precision=fp16\nloss_scale=100\n"); }, "power of two");
    expectError([] { parseSessionOptions("precision=fp16\nloss_scale=65536\n"); }, "power of two");
    expectError([] { parseSessionOptions("loss_scale=128\n"); }, "fp32 takes loss_scale=1");
    auto frozen = parseSessionOptions("frozen=0,1, 5\n").frozen;
    CHECK((frozen == std::vector<std::size_t>{0, 1, 5}));
    expectError([] { parseSessionOptions("frozen=0,x\n"); }, "parameter indices");
}

TEST_CASE(multiInstanceReplicaOptionsAndPoprunTargetOptions) {
    // One instance: no runtime replica options; the graph's replicas are the instance's.
    SessionOptions one = parseSessionOptions("replicas=16\n");
    CHECK(one.instances == 1 && one.instanceIndex == 0 && one.globalReplicas() == 16);
    CHECK(runtimeReplicaOptions(one).empty());
    // POD64 as 4 instances x 16 replicas: instance 2 runs global replicas [32, 48) of a 64-replica graph.
    SessionOptions o = parseSessionOptions("replicas=16\ninstances=4\ninstance_index=2\n");
    CHECK(o.globalReplicas() == 64 && o.replicaOffset() == 32);
    auto r = runtimeReplicaOptions(o);
    CHECK(r.size() == 3);
    CHECK((r[0] == std::pair<std::string, std::string>{"target.syncReplicasIndependently", "true"}));
    CHECK((r[1] == std::pair<std::string, std::string>{"target.firstRuntimeReplica", "32"}));
    CHECK((r[2] == std::pair<std::string, std::string>{"target.numberRuntimeReplica", "16"}));
    // Every instance's subset: disjoint, contiguous, covering [0, 64) in instance order.
    std::size_t next = 0;
    for (int i = 0; i < 4; ++i) {
        SessionOptions oi = parseSessionOptions("replicas=16\ninstances=4\ninstance_index=" + std::to_string(i));
        CHECK(oi.replicaOffset() == next);
        next += oi.replicas;
    }
    CHECK(next == 64);
    expectError([] { parseSessionOptions("instances=4\ninstance_index=4\n"); }, "must be below instances=4");
    expectError([] { parseSessionOptions("instances=0\n"); }, "instances must be an integer > 0");
    expectError([] { parseSessionOptions("instances=2\ninstance_index=-1\n"); }, "non-negative integer");
    expectError([] { parseSessionOptions("instances=2\nipu_model=true\n"); }, "IPU Model");
    expectError([] { parseSessionOptions("instances=2\nupdate=device\n"); }, "update=host");

    // POPLAR_TARGET_OPTIONS as poprun exports it for a POD64 partition.
    auto t = parseTargetOptions(
        R"({"ipuLinkDomainSize":"64","ipuLinkConfiguration":"slidingWindow","ipuLinkTopology":"torus",)"
        R"( "gatewayMode":"true", "instanceSize":"64"})");
    CHECK(t.size() == 5);
    CHECK((t[0] == std::pair<std::string, std::string>{"ipuLinkDomainSize", "64"}));
    CHECK((t[4] == std::pair<std::string, std::string>{"instanceSize", "64"}));
    CHECK(parseTargetOptions("").empty() && parseTargetOptions(" {} ").empty());
    expectError([] { parseTargetOptions(R"({"a":64})"); }, "POPLAR_TARGET_OPTIONS");
    expectError([] { parseTargetOptions(R"({"a":"1",})"); }, "quoted string");
    expectError([] { parseTargetOptions(R"({"a":"1"} x)"); }, "after the closing");
    expectError([] { parseTargetOptions(R"({"a" "1"})"); }, "expected ':'");
    expectError([] { parseTargetOptions(R"({"a":"1")"); }, "expected ',' or '}'");
}

TEST_CASE(networkSpecReaderDerivesParametersAndShapes) {
    {
        // A trailer that disagrees with the layers must be refused.
        expectError([] { parseNetworkSpec(kTiny); }, "trailer says 337");
        std::string ok = kTiny;
        ok.replace(ok.find("params 337"), 10, "params 305");
        NetworkSpec s = parseNetworkSpec(ok);
        CHECK(s.name == "tiny");
        CHECK(s.parameterCount() == 305);
        auto ps = s.parameters();
        CHECK(ps.size() == 8);
        CHECK(ps[0].name == "c1.weight" && ps[0].offset == 0 && ps[0].size() == 108);
        CHECK(ps[3].name == "r.c.weight" && ps[3].offset == 116);
        CHECK(ps[5].name == "r.d.weight" && ps[5].offset == 116 + 148);
        CHECK(ps[7].name == "fc.bias" && ps[7].offset == 300);
        // 8x8 -> conv s1 p1: 8x8 -> residual s2: 4x4 -> pool 2: 2x2 -> gap 1x1 -> 4 -> fc 5
        CHECK((outputShape(s.layers, s.input) == Shape{5, 1, 1}));
        CHECK(s.layers[3].kind == LayerKind::Residual && s.layers[3].main.size() == 1 &&
              s.layers[3].shortcut.size() == 1);
        CHECK(s.layers[1].groups == 2 && s.layers[1].eps == 1e-5);
    }
}

TEST_CASE(networkSpecReaderRefusesBadSpecsNamingTheProblem) {
    expectError([] { parseNetworkSpec("dpsgd-network v2\n"); }, "header");
    expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 1 4 4\nclasses 2\nbatchnorm b 1\n"); },
                "unknown layer 'batchnorm'");
    expectError(
        [] {
            parseNetworkSpec(
                "dpsgd-network v1\nname n\ninput 1 4 4\nclasses 2\nflatten\nlinear fc 15 2 1\nparams 32\n");
        },
        "expects a flat input of 15");
    expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 2 4 4\nclasses 2\ngroupnorm g 2 3 1e-5\n"); },
                "not divisible");
    expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 1 4 4\nclasses 2\nconv c 1 2 x 1 0 0 0\n"); },
                "line 5");
}

TEST_CASE(sessionOptionsAndHostLayout) {
    {
        SessionOptions o = parseSessionOptions(
            "replicas=4\nmicro_batch_size=2\naccumulation=8\nmultiplicity=3\nprecision=fp16\n"
            "available_memory_proportion=0.3\nexecutable_cache=/tmp/c\nupdate=device\nnoise=fast-insecure\n"
            "seed=7\nmomentum=0.9\nnesterov=true\nipu_model=true\n");
        CHECK(o.replicas == 4 && o.microBatchSize == 2 && o.accumulation == 8 && o.multiplicity == 3);
        CHECK(o.precision == Precision::FP16 && o.availableMemoryProportion == 0.3 && o.executableCache == "/tmp/c");
        CHECK(o.update == UpdateMode::Device && !o.secureNoise && o.seed == 7 && o.momentum == 0.9 && o.nesterov &&
              o.ipuModel);
        CHECK(!parseSessionOptions("").ipuModel);
        CHECK(o.slotsPerCall() == 64);
        HostLayout h(o, Shape{3, 2, 2});
        // replica-major: replica r of call c starts at slot c*64 + r*16 and input element (slot*K)*12
        CHECK(h.slotsPerReplica() == 16 && h.slotsPerCall() == 64);
        CHECK(h.inputsPerMicroBatch() == 2 * 3 * 12);
        CHECK(h.inputOffset(1, 2) == (64 + 32) * 3 * 12);
        CHECK(h.slotOffset(1, 2) == 96);
    }
    expectError([] { parseSessionOptions("replicas=0\n"); }, "replicas");
    expectError([] { parseSessionOptions("precision=bf16\n"); }, "fp32 or fp16");
    expectError([] { parseSessionOptions("available_memory_proportion=1.5\n"); }, "(0, 1]");
    expectError([] { parseSessionOptions("colour=blue\n"); }, "unknown IPU option 'colour'");
    expectError([] { parseSessionOptions("nesterov=true\n"); }, "momentum > 0");
}

TEST_CASE(hostFeederDeliversEverySlotOnceToItsReplica) {
    {
        // HostFeeder: R=3 replicas, A=2 micro-batches, m=2 slots, K=2 copies of a 3-element sample, 2 calls.
        // Every buffer element encodes its slot, so each delivery can be traced back to the slot it came from.
        SessionOptions o = parseSessionOptions("replicas=3\naccumulation=2\nmicro_batch_size=2\nmultiplicity=2\n");
        HostLayout h(o, Shape{3, 1, 1});
        const std::size_t calls = 2, slots = h.slotsPerCall(), perSlot = 2 * 3;
        std::vector<float> inputs(calls * slots * perSlot), mask(calls * slots);
        std::vector<int> labels(calls * slots);
        for (std::size_t s = 0; s < calls * slots; ++s) {
            for (std::size_t e = 0; e < perSlot; ++e) inputs[s * perSlot + e] = static_cast<float>(s * 100 + e);
            labels[s] = static_cast<int>(s);
            mask[s] = static_cast<float>(s % 3 != 0);  // some padding
        }
        HostFeeder f(h);
        std::vector<int> seen(calls * slots, 0);
        for (std::size_t c = 0; c < calls; ++c) {
            f.startCall(inputs.data(), labels.data(), mask.data(), c);
            // Streams are read in an order unrelated to the slot order (replicas interleaved, labels first).
            for (std::size_t a = 0; a < 2; ++a) {
                for (std::size_t r = 3; r-- > 0;) {
                    unsigned lab[2];
                    float msk[2], in[2 * 6];
                    f.nextLabels(r, lab);
                    f.nextMask(r, msk);
                    f.nextInputs(r, in);
                    float norms[2] = {static_cast<float>(r * 10 + a), static_cast<float>(r * 10 + a) + 0.5f};
                    f.storeNorms(r, norms);
                    for (std::size_t p = 0; p < 2; ++p) {
                        // BatchLayout.slot(r, a, p) = (r*A + a)*m + p within the call.
                        const std::size_t slot = c * slots + (r * 2 + a) * 2 + p;
                        CHECK(lab[p] == slot);
                        CHECK(msk[p] == mask[slot]);
                        for (std::size_t e = 0; e < perSlot; ++e)
                            CHECK(in[p * perSlot + e] == static_cast<float>(slot * 100 + e));
                        seen[slot]++;
                    }
                }
            }
            f.finishCall();
            // Norms land at the slot they belong to: slot (r, a, p) of the call.
            for (std::size_t r = 0; r < 3; ++r)
                for (std::size_t a = 0; a < 2; ++a)
                    CHECK(f.norms()[(r * 2 + a) * 2 + 1] == static_cast<float>(r * 10 + a) + 0.5f);
        }
        for (int n : seen) CHECK(n == 1);  // every slot delivered exactly once
        // A replica asking for a third micro-batch must not receive the next replica's data.
        f.startCall(inputs.data(), labels.data(), mask.data(), 0);
        float buf[12];
        f.nextInputs(1, buf);
        f.nextInputs(1, buf);
        bool refused = false;
        try {
            f.nextInputs(1, buf);
        } catch (const std::logic_error&) {
            refused = true;
        }
        CHECK(refused);
        bool incomplete = false;
        try {
            f.finishCall();  // replica 0 read nothing
        } catch (const std::logic_error&) {
            incomplete = true;
        }
        CHECK(incomplete);
    }
}

int main(int argc, char** argv) {
    const std::string filter = argc > 1 ? argv[1] : "";
    int failedCases = 0, ran = 0;
    for (const TestCase& c : testCases()) {
        if (std::string(c.name).find(filter) == std::string::npos) continue;
        ++ran;
        const int before = failures;
        try {
            c.run();
        } catch (const std::exception& e) {
            std::cerr << c.name << ": unexpected exception: " << e.what() << "\n";
            ++failures;
        }
        const bool ok = failures == before;
        if (!ok) ++failedCases;
        std::cout << (ok ? "[ ok ] " : "[FAIL] ") << c.name << "\n";
    }
    if (ran == 0) {
        std::cerr << "no native test case matches '" << filter << "'\n";
        return 1;
    }
    if (failures) {
        std::cerr << failedCases << " native test case(s) failed, " << failures << " check(s)\n";
        return 1;
    }
    std::cout << "native tests passed (" << ran << " cases)\n";
    return 0;
}
