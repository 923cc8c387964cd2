// The NanoBatch DP-SGD session: replicated graph, programs, host streams and the engine.
// Targets Poplar SDK 3.x (poplar/Graph.hpp incl. ReplicatedStreamMode and replication_factor,
// poplar/Engine.hpp, poplar/DeviceManager.hpp, poplar/CSRFunctions.hpp), PopLibs as in graphcore/poplibs (mk2-main, 2023) and GCL's
// gcl/Collectives.hpp (allReduceInPlaceCrossReplica, which replaced popops::replicatedAllReduce in SDK 2.x).
#include "dpsgd_ipu/IpuSession.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <gcl/Collectives.hpp>
#include <poplar/CSRFunctions.hpp>
#include <poplar/DeviceManager.hpp>
#include <poplar/Engine.hpp>
#include <poplar/Graph.hpp>
#include <poplar/IPUModel.hpp>
#include <poplar/Program.hpp>
#include <cstdlib>
#include <poplin/codelets.hpp>
#include <popnn/Loss.hpp>
#include <popnn/NonLinearity.hpp>
#include <popnn/codelets.hpp>
#include <popops/Cast.hpp>
#include <popops/ElementWise.hpp>
#include <popops/Expr.hpp>
#include <popops/Reduce.hpp>
#include <popops/ScaledAdd.hpp>
#include <popops/Zero.hpp>
#include <popops/codelets.hpp>
#include <poprand/RandomGen.hpp>
#include <poprand/codelets.hpp>
#include <poputil/TileMapping.hpp>

#include "GraphBuilder.hpp"
#include "dpsgd_ipu/HostFeeder.hpp"
#include "dpsgd_ipu/NetworkSpec.hpp"
#include "dpsgd_ipu/SessionOptions.hpp"

namespace dpsgd::ipu {

namespace pe = popops::expr;
using poplar::Tensor;
using poplar::program::Copy;
using poplar::program::Repeat;
using poplar::program::Sequence;

namespace {

std::mutex errorMutex;
std::string lastAttachError;

void setAttachError(const std::string &e) {
  std::lock_guard<std::mutex> lock(errorMutex);
  lastAttachError = e;
}

enum Program : unsigned { INIT, TRAIN, EVAL, DRAIN, WRITE_PARAMS, READ_PARAMS, UPDATE, NUM_PROGRAMS };
constexpr std::size_t kMetrics = 4; // loss sum, correct, clipped, norm sum (device side, per replica and call)

std::string cacheKey(const std::string &spec, const std::string &options) {
  std::ostringstream key;
  // The SDK's install path names its version (poplar_sdk-<os>-3.x.y+build), so a new SDK misses the cache.
  const char *sdk = std::getenv("POPLAR_SDK_ENABLED");
  key << std::hex << std::hash<std::string>{}(spec + "\n--\n" + options + "\n--\n" + (sdk ? sdk : "unknown-sdk"));
  return key.str();
}

} // namespace

class IpuSessionImpl {
public:
  IpuSessionImpl(const std::string &specText, const std::string &optionText)
      : spec_(parseNetworkSpec(specText)), opts_(parseSessionOptions(optionText)), layout_(opts_, spec_.input),
        params_(spec_.parameterCount()), feeder_(layout_) {
    attach();
    poplar::Executable exe = compileOrLoad(specText, optionText);
    engine_ = std::make_unique<poplar::Engine>(std::move(exe));
    connectStreams();
    engine_->load(device_);
    engine_->run(INIT);
  }

  ~IpuSessionImpl() { close(); }

  std::size_t parameterCount() const { return params_; }

  void loadParameters(const float *p, std::size_t n) {
    checkCount(n);
    paramsIn_ = p;
    engine_->run(WRITE_PARAMS);
    paramsIn_ = nullptr;
  }

  void saveParameters(float *p, std::size_t n) {
    checkCount(n);
    paramsOut_ = p;
    engine_->run(READ_PARAMS);
    paramsOut_ = nullptr;
  }

  void runSteps(const float *inputs, const int *labels, const float *mask, std::size_t calls, float clip) {
    if (!(clip > 0)) throw std::invalid_argument("clip norm must be > 0 (infinity: no clipping)");
    run(TRAIN, inputs, labels, mask, calls, clip);
  }

  void evaluate(const float *inputs, const int *labels, const float *mask, std::size_t calls) {
    run(EVAL, inputs, labels, mask, calls, 1.0f);
  }

  void drainGradientSum(float *out, std::size_t n) {
    checkCount(n);
    gradOut_ = out;
    engine_->run(DRAIN);
    gradOut_ = nullptr;
  }

  void lastSlotNorms(float *out, std::size_t n) {
    const auto &norms = feeder_.norms();
    if (n != norms.size())
      throw std::invalid_argument("norm buffer holds " + std::to_string(n) + " values; a call has " + std::to_string(norms.size()) + " slots");
    std::copy(norms.begin(), norms.end(), out);
  }

  void readMetrics(double *out, std::size_t n) {
    if (n != 5) throw std::invalid_argument("metrics buffer must hold 5 values");
    std::copy(std::begin(metrics_), std::end(metrics_), out);
    std::fill(std::begin(metrics_), std::end(metrics_), 0.0);
  }

  void applyUpdate(const float *noise, std::size_t n, float learningRate, float scale) {
    if (opts_.update != UpdateMode::Device) throw std::logic_error("applyUpdate needs the session option update=device");
    if (opts_.secureNoise) checkCount(n);
    else if (n != 1) throw std::invalid_argument("fast noise mode takes {sigma*C} (one value)");
    noiseIn_ = noise;
    hyper_[0] = -learningRate;
    hyper_[1] = scale;
    hyper_[2] = opts_.secureNoise ? 0.0f : noise[0];
    engine_->run(UPDATE);
    noiseIn_ = nullptr;
  }

  void close() {
    engine_.reset();
    if (attached_) {
      device_.detach();
      attached_ = false;
    }
  }

private:
  void checkCount(std::size_t n) const {
    if (n != params_) throw std::invalid_argument("parameter buffer holds " + std::to_string(n) + " values; the network has " + std::to_string(params_));
  }

  void attach() {
    if (opts_.ipuModel) {
      // Poplar's IPU Model (poplar/IPUModel.hpp): a CPU simulation of Mk2 IPUs, for checking the graph
      // on an SDK machine without hardware. Slow; small networks only.
      poplar::IPUModel model("ipu2"); // Mk2
      model.numIPUs = static_cast<unsigned>(opts_.replicas);
      device_ = model.createDevice();
      if (!device_.attach()) throw std::runtime_error("could not attach the IPU Model device");
      attached_ = true;
      return;
    }
    auto manager = poplar::DeviceManager::createDeviceManager();
    // One IPU per replica: a multi-IPU device of `replicas` IPUs (poplar/DeviceManager.hpp).
    auto devices = manager.getDevices(poplar::TargetType::IPU, static_cast<unsigned>(opts_.replicas));
    for (auto &d : devices) {
      if (d.attach()) {
        device_ = std::move(d);
        attached_ = true;
        return;
      }
    }
    std::string why = "could not attach " + std::to_string(opts_.replicas) + " IPU(s): " + std::to_string(devices.size()) +
                      " matching device(s), all busy or absent (check gc-info -l and gc-monitor)";
    setAttachError(why);
    throw std::runtime_error(why);
  }

  poplar::Executable compileOrLoad(const std::string &specText, const std::string &optionText) {
    std::filesystem::path file;
    if (!opts_.executableCache.empty()) {
      std::filesystem::create_directories(opts_.executableCache);
      file = std::filesystem::path(opts_.executableCache) / ("dpsgd-" + cacheKey(specText, optionText) + ".poplar_exec");
      if (std::filesystem::exists(file)) {
        std::ifstream in(file, std::ios::binary);
        return poplar::Executable::deserialize(in); // poplar/Executable.hpp
      }
    }
    poplar::Graph graph(device_.getTarget(), poplar::replication_factor(static_cast<unsigned>(opts_.replicas)));
    popops::addCodelets(graph);
    poplin::addCodelets(graph);
    popnn::addCodelets(graph);
    poprand::addCodelets(graph);
    std::vector<poplar::program::Program> programs = build(graph);
    poplar::Executable exe = poplar::compileGraph(graph, programs);
    if (!file.empty()) {
      // Write then rename, so a concurrent reader never sees half a file.
      auto tmp = file;
      tmp += ".tmp";
      {
        std::ofstream out(tmp, std::ios::binary);
        exe.serialize(out);
      }
      std::filesystem::rename(tmp, file);
    }
    return exe;
  }

  /** Builds every program; indices as in enum Program. */
  std::vector<poplar::program::Program> build(poplar::Graph &graph) {
    GraphBuilder net(graph, spec_, opts_);
    const poplar::Type type = net.computeType();
    const std::size_t m = opts_.microBatchSize, k = opts_.multiplicity, mk = m * k, P = params_;
    const Shape in = spec_.input;

    Tensor master = graph.addVariable(poplar::FLOAT, {P}, "master");          // fp32 master weights
    Tensor acc = graph.addVariable(poplar::FLOAT, {P}, "clippedSum");         // per-replica clipped sum
    Tensor metrics = graph.addVariable(poplar::FLOAT, {kMetrics}, "metrics"); // per call
    Tensor clip = graph.addVariable(poplar::FLOAT, {1}, "clipNorm");
    for (auto &t : {master, acc, metrics}) poputil::mapTensorLinearly(graph, t);
    graph.setTileMapping(clip, 0);

    // Host streams. Per-replica FIFOs (REPLICATE) carry each replica's own slots; BROADCAST ones carry
    // one host buffer to every replica (poplar/ReplicatedStreamMode.hpp).
    auto inputs = graph.addHostToDeviceFIFO("inputs", poplar::FLOAT, layout_.inputsPerMicroBatch());
    auto labels = graph.addHostToDeviceFIFO("labels", poplar::UNSIGNED_INT, m);
    auto mask = graph.addHostToDeviceFIFO("mask", poplar::FLOAT, m);
    auto clipIn = graph.addHostToDeviceFIFO("clip", poplar::FLOAT, 1, poplar::ReplicatedStreamMode::BROADCAST);
    auto paramsIn = graph.addHostToDeviceFIFO("paramsIn", poplar::FLOAT, P, poplar::ReplicatedStreamMode::BROADCAST);
    auto paramsOut = graph.addDeviceToHostFIFO("paramsOut", poplar::FLOAT, P);
    auto gradOut = graph.addDeviceToHostFIFO("gradOut", poplar::FLOAT, P);
    auto metricsOut = graph.addDeviceToHostFIFO("metrics", poplar::FLOAT, kMetrics);
    auto normsOut = graph.addDeviceToHostFIFO("norms", poplar::FLOAT, m);

    // The compute copy of the weights, refreshed from the master at the start of every call.
    auto syncWeights = [&](Sequence &prog) {
      for (const auto &p : net.params()) {
        Tensor src = master.slice(p.info.offset, p.info.offset + p.info.size()).reshape(p.info.shape);
        if (type == poplar::FLOAT) prog.add(Copy(src, p.compute));
        else popops::castWithOutput(graph, src, p.compute, prog, {"weights/cast"});
      }
    };

    // One micro-batch's inputs, read from this replica's streams in order.
    struct MicroBatch {
      Tensor x, labelsK, mask;
    };
    auto readMicroBatch = [&](Sequence &body) {
      Tensor xf = graph.addVariable(poplar::FLOAT, {mk, in.c, in.h, in.w}, "x");
      Tensor lab = graph.addVariable(poplar::UNSIGNED_INT, {m}, "labels");
      Tensor msk = graph.addVariable(poplar::FLOAT, {m}, "mask");
      for (auto &t : {xf, lab, msk}) poputil::mapTensorLinearly(graph, t);
      body.add(Copy(inputs, xf));
      body.add(Copy(labels, lab));
      body.add(Copy(mask, msk));
      Tensor x = type == poplar::FLOAT ? xf : popops::cast(graph, xf, type, body, {"x/cast"});
      // Each slot's label applies to its K copies: [m] -> [m][K] -> [m*K].
      Tensor labelsK = lab.reshape({m, 1}).broadcast(static_cast<unsigned>(k), 1).reshape({mk});
      return MicroBatch{x, labelsK, msk};
    };

    // Loss, softmax output gradient and per-slot metrics of one micro-batch.
    auto lossAndMetrics = [&](Sequence &body, const MicroBatch &mb, Tensor logits, Tensor *deltasOut) {
      Tensor probs = popnn::nonLinearity(graph, popnn::NonLinearityType::SOFTMAX_STABLE, logits, body, {"softmax"});
      Tensor loss = graph.addVariable(type, {mk}, "loss");
      poputil::mapTensorLinearly(graph, loss);
      Tensor deltas = graph.clone(probs, "deltas");
      // popnn/Loss.hpp: cross entropy of softmax outputs; deltas = p - onehot(label) per copy.
      body.add(popnn::calcLoss(graph, probs, mb.labelsK, loss, deltas, popnn::CROSS_ENTROPY_LOSS, {"loss"}));
      if (k > 1) popops::mulInPlace(graph, deltas, 1.0f / static_cast<float>(k), body, {"deltas/mean_over_copies"});
      if (deltasOut) *deltasOut = deltas;
      Tensor predicted = popnn::argMax(graph, probs, body, {"argmax"});
      Tensor hit = popops::map(graph, pe::Cast(pe::_1 == pe::_2, poplar::FLOAT), {predicted, mb.labelsK}, body, {"hit"});
      Tensor lossF = popops::cast(graph, loss, poplar::FLOAT, body, {"loss/cast"});
      // Per slot: mean over its K copies, then masked.
      Tensor lossSlot = popops::reduce(graph, lossF.reshape({m, k}), poplar::FLOAT, {1}, {popops::Operation::ADD}, body);
      Tensor hitSlot = popops::reduce(graph, hit.reshape({m, k}), poplar::FLOAT, {1}, {popops::Operation::ADD}, body);
      const float invK = 1.0f / static_cast<float>(k);
      Tensor lossMasked = popops::map(graph, pe::_1 * pe::_2 * pe::Const(invK), {lossSlot, mb.mask}, body);
      Tensor hitMasked = popops::map(graph, pe::_1 * pe::_2 * pe::Const(invK), {hitSlot, mb.mask}, body);
      return std::make_pair(lossMasked, hitMasked);
    };

    auto sumAll = [&](Sequence &prog, const Tensor &t) {
      return popops::reduce(graph, t, poplar::FLOAT, {0}, {popops::Operation::ADD}, prog).reshape({1});
    };

    std::vector<poplar::program::Program> programs(NUM_PROGRAMS);

    // INIT: variables start undefined on the device (assigned to programs[INIT] at the end).
    Sequence init;
    popops::zero(graph, acc, init, {"zero/acc"});
    popops::zero(graph, metrics, init, {"zero/metrics"});

    // TRAIN: one device call = Repeat(A) over micro-batches: forward, backward, per-slot clip, mask, accumulate.
    {
      Sequence train;
      if (type == poplar::HALF && opts_.stochasticRounding) poplar::setStochasticRounding(graph, train, true, {"sr"});
      train.add(Copy(clipIn, clip));
      popops::zero(graph, metrics, train, {"zero/metrics"});
      syncWeights(train);

      Sequence body;
      MicroBatch mb = readMicroBatch(body);
      Tensor logits = net.forward(mb.x, body, /*record=*/true);
      Tensor deltas;
      auto [lossMasked, hitMasked] = lossAndMetrics(body, mb, logits, &deltas);
      std::vector<Tensor> grads = net.backward(deltas, body);

      // All per-slot gradients side by side: [m][P] (a view; no copy of the parameters' gradients).
      std::vector<Tensor> flat;
      for (const auto &g : grads) flat.push_back(g.reshape({m, g.numElements() / m}));
      Tensor all = poplar::concat(flat, 1);
      // Per-slot L2 norm over every parameter, in fp32 (popops::Operation::SQUARE_ADD).
      Tensor sq = popops::reduce(graph, all, poplar::FLOAT, {1}, {popops::Operation::SQUARE_ADD}, body, {"norm/sq"});
      Tensor norm = popops::sqrt(graph, sq, body, {"norm"});
      // factor_i = min(1, C / ||g_i||) * mask_i; C = +inf gives 1 (the unclipped baseline).
      Tensor factor = popops::map(graph, pe::Min(pe::Const(1.0f), pe::_2 / pe::Max(pe::_1, pe::Const(1e-12f))) * pe::_3,
                                  {norm, clip.broadcast(static_cast<unsigned>(m), 0), mb.mask}, body, {"clip/factor"});
      Tensor clipped = popops::map(graph, pe::Cast(pe::_1 > pe::_2, poplar::FLOAT) * pe::_3,
                                   {norm, clip.broadcast(static_cast<unsigned>(m), 0), mb.mask}, body, {"clip/count"});
      Tensor normMasked = popops::mul(graph, norm, mb.mask, body, {"norm/masked"});
      // fp16: the factor is cast to half (rounding up to 2^-11 relative) and the products are rounded again
      // (2^-11 per element), which could push a clipped gradient's norm a hair above C. Shrinking the factor
      // by 2^-9 first keeps ||factor_i g_i|| <= C: the sensitivity is never exceeded, only slightly undershot.
      Tensor factorC = type == poplar::FLOAT
                           ? factor
                           : popops::cast(graph, popops::map(graph, pe::_1 * pe::Const(1.0f - 1.0f / 512.0f), {factor}, body),
                                          type, body, {"clip/factor_cast"});
      Tensor weighted = popops::mul(graph, all, factorC.reshape({m, 1}).broadcast(static_cast<unsigned>(P), 1), body, {"clip/scale"});
      // acc += sum_i factor_i * g_i (reduce with update=true adds into acc, fp32).
      popops::reduceWithOutput(graph, weighted, acc, {0}, {popops::Operation::ADD, true}, body, {"clip/accumulate"});

      Tensor step = poplar::concat({sumAll(body, lossMasked), sumAll(body, hitMasked), sumAll(body, clipped), sumAll(body, normMasked)});
      popops::addInPlace(graph, metrics, step, body, {"metrics/add"});
      body.add(Copy(norm, normsOut));

      train.add(Repeat(static_cast<unsigned>(opts_.accumulation), body, {"microbatches"}));
      train.add(Copy(metrics, metricsOut));
      programs[TRAIN] = train;
    }

    // EVAL: forward only, same streams and layout; the clip stream is unused.
    {
      Sequence eval;
      popops::zero(graph, metrics, eval, {"zero/metrics"});
      syncWeights(eval);
      Sequence body;
      MicroBatch mb = readMicroBatch(body);
      Tensor logits = net.forward(mb.x, body, /*record=*/false);
      auto [lossMasked, hitMasked] = lossAndMetrics(body, mb, logits, nullptr);
      Tensor zero = graph.addConstant(poplar::FLOAT, {2}, 0.0f, "zero2");
      graph.setTileMapping(zero, 0);
      Tensor step = poplar::concat({sumAll(body, lossMasked), sumAll(body, hitMasked), zero});
      popops::addInPlace(graph, metrics, step, body, {"metrics/add"});
      eval.add(Repeat(static_cast<unsigned>(opts_.accumulation), body, {"microbatches"}));
      eval.add(Copy(metrics, metricsOut));
      programs[EVAL] = eval;
    }

    auto allReduce = [&](Sequence &prog) {
      if (opts_.replicas > 1) gcl::allReduceInPlaceCrossReplica(graph, acc, gcl::CollectiveOperator::ADD, prog, {"allReduce"});
    };

    // DRAIN: the cross-replica clipped sum goes to the host; common/ adds noise and steps (the SPI path).
    {
      Sequence drain;
      allReduce(drain);
      drain.add(Copy(acc, gradOut));
      popops::zero(graph, acc, drain, {"zero/acc"});
      programs[DRAIN] = drain;
    }
    programs[WRITE_PARAMS] = Copy(paramsIn, master);
    programs[READ_PARAMS] = Copy(master, paramsOut);

    // UPDATE (update=device): noise, 1/(qN) scaling and SGD with momentum on every replica, identically.
    {
      Sequence update;
      if (opts_.update == UpdateMode::Device) {
        Tensor hyper = graph.addVariable(poplar::FLOAT, {3}, "hyper"); // {-lr, scale, sigma*C (fast mode)}
        graph.setTileMapping(hyper, 0);
        auto hyperIn = graph.addHostToDeviceFIFO("hyper", poplar::FLOAT, 3, poplar::ReplicatedStreamMode::BROADCAST);
        update.add(Copy(hyperIn, hyper));
        allReduce(update);
        Tensor noise;
        if (opts_.secureNoise) {
          // Secure mode: the host's CSPRNG noise, the same buffer for every replica.
          noise = graph.clone(master, "noise");
          auto noiseIn = graph.addHostToDeviceFIFO("noise", poplar::FLOAT, P, poplar::ReplicatedStreamMode::BROADCAST);
          update.add(Copy(noiseIn, noise));
        } else {
          // Fast (insecure, seeded) mode: poprand::normal with one seed for all replicas (poprand/RandomGen.hpp),
          // so every replica draws the same noise; the seed advances every step.
          Tensor seed = graph.addVariable(poplar::UNSIGNED_INT, {2}, "seed");
          graph.setTileMapping(seed, 0);
          std::vector<unsigned> seedValue{static_cast<unsigned>(opts_.seed), static_cast<unsigned>(opts_.seed >> 32)};
          graph.setInitialValue(seed, poplar::ArrayRef<unsigned>(seedValue));
          noise = poprand::normal(graph, &seed, 0, acc, poplar::FLOAT, 0.0, 1.0, update, {"noise"});
          popops::mulInPlace(graph, noise, hyper.slice(2, 3), update, {"noise/std"});
          popops::mapInPlace(graph, pe::_1 + pe::Const(1u), {seed.slice(0, 1)}, update, {"seed/advance"});
        }
        Tensor g = popops::add(graph, acc, noise, update, {"noisy"});
        popops::mulInPlace(graph, g, hyper.slice(1, 2), update, {"scale"});
        Tensor direction = g;
        if (opts_.momentum > 0) {
          Tensor velocity = graph.clone(master, "momentum");
          popops::zero(graph, velocity, init, {"zero/momentum"});
          const float mu = static_cast<float>(opts_.momentum);
          popops::scaledAddTo(graph, velocity, mu, g, 1.0f, update, {"momentum"}); // v = mu v + g
          direction = opts_.nesterov ? popops::map(graph, pe::_1 + pe::Const(mu) * pe::_2, {g, velocity}, update, {"nesterov"}) : velocity;
        }
        popops::scaledAddTo(graph, master, direction, hyper.slice(0, 1), update, {"sgd"}); // master += (-lr) d
        popops::zero(graph, acc, update, {"zero/acc"});
      }
      programs[UPDATE] = update;
    }
    programs[INIT] = init;
    return programs;
  }

  /** Wires the streams to callbacks; HostFeeder decides which bytes each replica's FIFO gets. */
  void connectStreams() {
    const std::size_t R = opts_.replicas;
    callMetrics_.assign(R * kMetrics, 0.0f);
    for (unsigned r = 0; r < R; ++r) {
      // poplar::Engine::connectStreamToCallback(handle, replicaIndex, callback): one callback per replica.
      engine_->connectStreamToCallback("inputs", r, [this, r](void *p) { feeder_.nextInputs(r, p); });
      engine_->connectStreamToCallback("labels", r, [this, r](void *p) { feeder_.nextLabels(r, p); });
      engine_->connectStreamToCallback("mask", r, [this, r](void *p) { feeder_.nextMask(r, p); });
      engine_->connectStreamToCallback("norms", r, [this, r](void *p) { feeder_.storeNorms(r, p); });
      engine_->connectStreamToCallback("metrics", r, [this, r](void *p) {
        std::memcpy(callMetrics_.data() + r * kMetrics, p, kMetrics * sizeof(float));
      });
      // Parameters and the all-reduced sum are identical on every replica: replica 0's copy is kept.
      engine_->connectStreamToCallback("paramsOut", r, [this, r](void *p) {
        if (r == 0) std::memcpy(paramsOut_, p, params_ * sizeof(float));
      });
      engine_->connectStreamToCallback("gradOut", r, [this, r](void *p) {
        if (r == 0) std::memcpy(gradOut_, p, params_ * sizeof(float));
      });
    }
    // BROADCAST streams: one callback, no replica index (as TensorFlow's IPU plugin connects them).
    engine_->connectStreamToCallback("clip", [this](void *p) { std::memcpy(p, &clip_, sizeof(float)); });
    engine_->connectStreamToCallback("paramsIn", [this](void *p) { std::memcpy(p, paramsIn_, params_ * sizeof(float)); });
    if (opts_.update == UpdateMode::Device) {
      engine_->connectStreamToCallback("hyper", [this](void *p) { std::memcpy(p, hyper_, sizeof(hyper_)); });
      if (opts_.secureNoise)
        engine_->connectStreamToCallback("noise", [this](void *p) { std::memcpy(p, noiseIn_, params_ * sizeof(float)); });
    }
  }

  void run(Program program, const float *inputs, const int *labels, const float *mask, std::size_t calls, float clip) {
    clip_ = clip;
    const std::size_t slots = layout_.slotsPerCall();
    for (std::size_t call = 0; call < calls; ++call) {
      feeder_.startCall(inputs, labels, mask, call);
      engine_->run(program);
      feeder_.finishCall();
      for (std::size_t r = 0; r < opts_.replicas; ++r)
        for (std::size_t i = 0; i < kMetrics; ++i) metrics_[1 + i] += callMetrics_[r * kMetrics + i];
      for (std::size_t s = 0; s < slots; ++s) metrics_[0] += mask[call * slots + s] != 0.0f ? 1.0 : 0.0;
    }
  }

  NetworkSpec spec_;
  SessionOptions opts_;
  HostLayout layout_;
  std::size_t params_;
  HostFeeder feeder_;
  poplar::Device device_;
  bool attached_ = false;
  std::unique_ptr<poplar::Engine> engine_;

  // Host buffers of the transfer in flight, read by the stream callbacks.
  const float *paramsIn_ = nullptr;
  const float *noiseIn_ = nullptr;
  float *paramsOut_ = nullptr;
  float *gradOut_ = nullptr;
  float clip_ = 1.0f;
  float hyper_[3] = {0, 0, 0};
  std::vector<float> callMetrics_;
  double metrics_[5] = {0, 0, 0, 0, 0}; // samples, loss sum, correct, clipped, norm sum
};

IpuSession::IpuSession(const std::string &modelSpec, const std::string &options)
    : impl_(std::make_unique<IpuSessionImpl>(modelSpec, options)) {}

IpuSession::~IpuSession() = default;

namespace {
IpuSessionImpl &live(const std::unique_ptr<IpuSessionImpl> &p) {
  if (!p) throw std::logic_error("IPU session is closed");
  return *p;
}
} // namespace

std::size_t IpuSession::parameterCount() const { return live(impl_).parameterCount(); }
void IpuSession::loadParameters(const float *p, std::size_t n) { live(impl_).loadParameters(p, n); }
void IpuSession::saveParameters(float *p, std::size_t n) { live(impl_).saveParameters(p, n); }
void IpuSession::runSteps(const float *in, const int *labels, const float *mask, std::size_t calls, float clip) {
  live(impl_).runSteps(in, labels, mask, calls, clip);
}
void IpuSession::evaluate(const float *in, const int *labels, const float *mask, std::size_t calls) {
  live(impl_).evaluate(in, labels, mask, calls);
}
void IpuSession::drainGradientSum(float *out, std::size_t n) { live(impl_).drainGradientSum(out, n); }
void IpuSession::lastSlotNorms(float *out, std::size_t n) { live(impl_).lastSlotNorms(out, n); }
void IpuSession::readMetrics(double *out, std::size_t n) { live(impl_).readMetrics(out, n); }
void IpuSession::applyUpdate(const float *noise, std::size_t n, float lr, float scale) { live(impl_).applyUpdate(noise, n, lr, scale); }

void IpuSession::close() {
  if (impl_) impl_->close();
  impl_.reset();
}

int IpuSession::deviceCount() {
  try {
    auto manager = poplar::DeviceManager::createDeviceManager();
    return static_cast<int>(manager.getDevices(poplar::TargetType::IPU, 1).size());
  } catch (const std::exception &e) {
    setAttachError(e.what());
    return 0;
  }
}

std::string IpuSession::attachError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  return lastAttachError;
}

} // namespace dpsgd::ipu
