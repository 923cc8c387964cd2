// Unit tests of the Poplar-free C++ (spec reader, options, host layout). Built by CMake (ctest) and
// by the Java test NativeCodeTest with plain g++; no SDK needed.
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>

#include <vector>

#include "dpsgd_ipu/HostFeeder.hpp"
#include "dpsgd_ipu/NetworkSpec.hpp"
#include "dpsgd_ipu/SessionOptions.hpp"

using namespace dpsgd::ipu;

static int failures = 0;

#define CHECK(cond)                                                                                  \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      std::cerr << __FILE__ << ":" << __LINE__ << ": CHECK failed: " #cond "\n";                      \
      ++failures;                                                                                    \
    }                                                                                                \
  } while (0)

static void expectError(const std::function<void()> &f, const std::string &fragment) {
  try {
    f();
    std::cerr << "expected an error containing '" << fragment << "', got none\n";
    ++failures;
  } catch (const std::invalid_argument &e) {
    if (std::string(e.what()).find(fragment) == std::string::npos) {
      std::cerr << "error '" << e.what() << "' lacks '" << fragment << "'\n";
      ++failures;
    }
  }
}

// A tiny residual net. Parameters by hand: c1 4*3*3*3 = 108; g1 4 + 4; r.c 4*4*3*3 + 4 = 148;
// r.d 4*4 = 16; fc 4*5 + 5 = 25; total 305. The trailer below is deliberately wrong (337).
static const char *kTiny = R"(dpsgd-network v1
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

int main() {
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
    CHECK(s.layers[3].kind == LayerKind::Residual && s.layers[3].main.size() == 1 && s.layers[3].shortcut.size() == 1);
    CHECK(s.layers[1].groups == 2 && s.layers[1].eps == 1e-5);
  }
  expectError([] { parseNetworkSpec("dpsgd-network v2\n"); }, "header");
  expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 1 4 4\nclasses 2\nbatchnorm b 1\n"); }, "unknown layer 'batchnorm'");
  expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 1 4 4\nclasses 2\nflatten\nlinear fc 15 2 1\nparams 32\n"); },
              "expects a flat input of 15");
  expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 2 4 4\nclasses 2\ngroupnorm g 2 3 1e-5\n"); }, "not divisible");
  expectError([] { parseNetworkSpec("dpsgd-network v1\nname n\ninput 1 4 4\nclasses 2\nconv c 1 2 x 1 0 0 0\n"); }, "line 5");

  {
    SessionOptions o = parseSessionOptions("replicas=4\nmicro_batch_size=2\naccumulation=8\nmultiplicity=3\nprecision=fp16\n"
                                           "available_memory_proportion=0.3\nexecutable_cache=/tmp/c\nupdate=device\nnoise=fast-insecure\n"
                                           "seed=7\nmomentum=0.9\nnesterov=true\nipu_model=true\n");
    CHECK(o.replicas == 4 && o.microBatchSize == 2 && o.accumulation == 8 && o.multiplicity == 3);
    CHECK(o.precision == Precision::FP16 && o.availableMemoryProportion == 0.3 && o.executableCache == "/tmp/c");
    CHECK(o.update == UpdateMode::Device && !o.secureNoise && o.seed == 7 && o.momentum == 0.9 && o.nesterov && o.ipuModel);
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
      mask[s] = static_cast<float>(s % 3 != 0); // some padding
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
            for (std::size_t e = 0; e < perSlot; ++e) CHECK(in[p * perSlot + e] == static_cast<float>(slot * 100 + e));
            seen[slot]++;
          }
        }
      }
      f.finishCall();
      // Norms land at the slot they belong to: slot (r, a, p) of the call.
      for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t a = 0; a < 2; ++a) CHECK(f.norms()[(r * 2 + a) * 2 + 1] == static_cast<float>(r * 10 + a) + 0.5f);
    }
    for (int n : seen) CHECK(n == 1); // every slot delivered exactly once
    // A replica asking for a third micro-batch must not receive the next replica's data.
    f.startCall(inputs.data(), labels.data(), mask.data(), 0);
    float buf[12];
    f.nextInputs(1, buf);
    f.nextInputs(1, buf);
    bool refused = false;
    try {
      f.nextInputs(1, buf);
    } catch (const std::logic_error &) {
      refused = true;
    }
    CHECK(refused);
    bool incomplete = false;
    try {
      f.finishCall(); // replica 0 read nothing
    } catch (const std::logic_error &) {
      incomplete = true;
    }
    CHECK(incomplete);
  }

  if (failures) {
    std::cerr << failures << " native test failure(s)\n";
    return 1;
  }
  std::cout << "native tests passed\n";
  return 0;
}
