// The NanoBatch DP-SGD session: replicated graph, programs, host streams and the engine.
// Targets Poplar SDK 3.x (poplar/Graph.hpp incl. ReplicatedStreamMode and replication_factor,
// poplar/Engine.hpp, poplar/DeviceManager.hpp, poplar/CSRFunctions.hpp), PopLibs as in graphcore/poplibs (mk2-main,
// 2023) and GCL's gcl/Collectives.hpp (allReduceInPlaceCrossReplica, which replaced popops::replicatedAllReduce in
// SDK 2.x). Several poprun instances (options instances/instance_index): one graph over all instances' replicas,
// each instance running its subset (engine options target.firstRuntimeReplica/numberRuntimeReplica), so GCL's
// all-reduce is global and DRAIN returns the whole run's clipped sum (docs/distributed.md "IPU-POD64").
#include "dpsgd_ipu/IpuSession.hpp"

#include <algorithm>
#include <cstdlib>
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
#include <poplar/VersionInfo.hpp>
#include <poplin/MatMul.hpp>
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
#include "dpsgd_ipu/ClipExpr.hpp"
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

void setAttachError(const std::string& e) {
    std::lock_guard<std::mutex> lock(errorMutex);
    lastAttachError = e;
}

enum Program : unsigned { INIT, TRAIN, EVAL, DRAIN, WRITE_PARAMS, READ_PARAMS, UPDATE, NUM_PROGRAMS };
// Device-side metrics per replica and call: loss sum, correct, clipped, norm sum, non-finite count.
constexpr std::size_t kMetrics = 5;

#ifndef DPSGD_IPU_VERSION
#define DPSGD_IPU_VERSION "unversioned"
#endif

/** This library's version and source hash (CMake sets DPSGD_IPU_VERSION) and the Poplar SDK's. */
std::string libraryVersion() { return std::string("dpsgd_ipu ") + DPSGD_IPU_VERSION; }
std::string sdkVersion() { return "poplar " + poplar::versionString() + " " + poplar::packageHash(); }

/** ClipExpr.hpp's dialect for the device: popops::expr trees. */
struct PopopsDialect {
    pe::PlaceHolder p(unsigned i) const { return pe::PlaceHolder(i); }
    pe::Const c(float v) const { return pe::Const(v); }
    pe::Sqrt sqrt(const pe::Expr& a) const { return pe::Sqrt(a); }
    pe::Min min(const pe::Expr& a, const pe::Expr& b) const { return pe::Min(a, b); }
    pe::Max max(const pe::Expr& a, const pe::Expr& b) const { return pe::Max(a, b); }
    pe::IsFinite isFinite(const pe::Expr& a) const { return pe::IsFinite(a); }
    pe::Cast toFloat(const pe::Expr& a) const { return pe::Cast(a, poplar::FLOAT); }
    pe::Select select(const pe::Expr& a, const pe::Expr& b, const pe::Expr& cond) const {
        return pe::Select(a, b, cond);
    }
};

// ---- Program builders, PopLibs style: (graph, inputs..., prog, debugContext, options). Each appends to prog. ----

using Chunks = std::vector<std::pair<std::size_t, std::size_t>>;

/** The session's device variables. */
struct SessionTensors {
    Tensor master;     // fp32 master weights [P]
    Tensor acc;        // per-replica clipped sum [P]
    Tensor metrics;    // per call [kMetrics]
    Tensor clipTable;  // per trainable tensor t: its clip bound C_t, then its clip group id (flat: one group) [2T]
};

/** The host streams of the train and eval programs. */
struct CallStreams {
    poplar::DataStream inputs, labels, mask;  // per replica (REPLICATE): each replica's own slots
    poplar::DataStream clip;                  // BROADCAST: one host buffer to every replica
    poplar::DataStream metrics, norms;        // device to host, per replica
};

/** One micro-batch's inputs, read from this replica's streams in order. */
struct MicroBatch {
    Tensor x, labelsK, mask;
};

/** Per-slot loss and correctness of one micro-batch, masked; and the loss-scaled output gradient. */
struct SlotMetrics {
    Tensor loss, hit, deltas;
};

SessionTensors addSessionTensors(poplar::Graph& graph, std::size_t params, std::size_t trainable,
                                 const poplar::DebugContext& dc) {
    SessionTensors v{graph.addVariable(poplar::FLOAT, {params}, {dc, "master"}),
                     graph.addVariable(poplar::FLOAT, {params}, {dc, "clippedSum"}),
                     graph.addVariable(poplar::FLOAT, {kMetrics}, {dc, "metrics"}),
                     graph.addVariable(poplar::FLOAT, {2 * trainable}, {dc, "clipTable"})};
    for (auto& t : {v.master, v.acc, v.metrics, v.clipTable}) poputil::mapTensorLinearly(graph, t);
    return v;
}

/** The call streams (poplar/ReplicatedStreamMode.hpp for REPLICATE and BROADCAST). */
CallStreams addCallStreams(poplar::Graph& graph, const HostLayout& layout, std::size_t trainable,
                           const SessionOptions& options) {
    const std::size_t m = options.microBatchSize;
    return CallStreams{
        graph.addHostToDeviceFIFO("inputs", poplar::FLOAT, layout.inputsPerMicroBatch()),
        graph.addHostToDeviceFIFO("labels", poplar::UNSIGNED_INT, m),
        graph.addHostToDeviceFIFO("mask", poplar::FLOAT, m),
        graph.addHostToDeviceFIFO("clip", poplar::FLOAT, 2 * trainable, poplar::ReplicatedStreamMode::BROADCAST),
        graph.addDeviceToHostFIFO("metrics", poplar::FLOAT, kMetrics),
        graph.addDeviceToHostFIFO("norms", poplar::FLOAT, m)};
}

/** Parameters, gradients and noise: P floats each, chunked below Poplar's 128 MB per-stream limit. */
void copyFromHost(poplar::Graph& graph, const std::string& name, const Chunks& chunks, const Tensor& dst,
                  Sequence& prog, const poplar::DebugContext& dc) {
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        auto [b, e] = chunks[i];
        auto stream = graph.addHostToDeviceFIFO(name + "/" + std::to_string(i), poplar::FLOAT, e - b,
                                                poplar::ReplicatedStreamMode::BROADCAST);
        prog.add(Copy(stream, dst.slice(b, e), false, {dc, name}));
    }
}

void copyToHost(poplar::Graph& graph, const std::string& name, const Chunks& chunks, const Tensor& src, Sequence& prog,
                const poplar::DebugContext& dc) {
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        auto [b, e] = chunks[i];
        auto stream = graph.addDeviceToHostFIFO(name + "/" + std::to_string(i), poplar::FLOAT, e - b);
        prog.add(Copy(src.slice(b, e), stream, false, {dc, name}));
    }
}

/** The compute copy of the weights, refreshed from the master at the start of every call. */
void syncWeights(poplar::Graph& graph, const GraphBuilder& net, const Tensor& master, Sequence& prog,
                 const poplar::DebugContext& dc) {
    for (const auto& p : net.params()) {
        Tensor src = master.slice(p.info.offset, p.info.offset + p.info.size()).reshape(p.info.shape);
        if (net.computeType() == poplar::FLOAT)
            prog.add(Copy(src, p.compute));
        else
            popops::castWithOutput(graph, src, p.compute, prog, {dc, "weights/cast"});
    }
}

MicroBatch readMicroBatch(poplar::Graph& graph, const CallStreams& streams, const Shape& in, poplar::Type type,
                          Sequence& prog, const poplar::DebugContext& dc, const SessionOptions& options) {
    const std::size_t m = options.microBatchSize, k = options.multiplicity, mk = m * k;
    Tensor xf = graph.addVariable(poplar::FLOAT, {mk, in.c, in.h, in.w}, {dc, "x"});
    Tensor lab = graph.addVariable(poplar::UNSIGNED_INT, {m}, {dc, "labels"});
    Tensor msk = graph.addVariable(poplar::FLOAT, {m}, {dc, "mask"});
    for (auto& t : {xf, lab, msk}) poputil::mapTensorLinearly(graph, t);
    prog.add(Copy(streams.inputs, xf));
    prog.add(Copy(streams.labels, lab));
    prog.add(Copy(streams.mask, msk));
    Tensor x = type == poplar::FLOAT ? xf : popops::cast(graph, xf, type, prog, {dc, "x/cast"});
    // Each slot's label applies to its K copies: [m] -> [m][K] -> [m*K].
    Tensor labelsK = lab.reshape({m, 1}).broadcast(static_cast<unsigned>(k), 1).reshape({mk});
    return MicroBatch{x, labelsK, msk};
}

/** Loss, softmax output gradient and per-slot metrics of one micro-batch. */
SlotMetrics lossAndMetrics(poplar::Graph& graph, const MicroBatch& mb, const Tensor& logits, poplar::Type type,
                           Sequence& prog, const poplar::DebugContext& dc, const SessionOptions& options) {
    const std::size_t m = options.microBatchSize, k = options.multiplicity, mk = m * k;
    Tensor probs = popnn::nonLinearity(graph, popnn::NonLinearityType::SOFTMAX_STABLE, logits, prog, {dc, "softmax"});
    Tensor loss = graph.addVariable(type, {mk}, {dc, "loss"});
    poputil::mapTensorLinearly(graph, loss);
    Tensor deltas = graph.clone(probs, {dc, "deltas"});
    // popnn/Loss.hpp: cross entropy of softmax outputs; deltas = p - onehot(label) per copy.
    prog.add(popnn::calcLoss(graph, probs, mb.labelsK, loss, deltas, popnn::CROSS_ENTROPY_LOSS, {dc, "loss"}));
    // The mean over K copies and the static loss scale S (a power of two; 1 in fp32) in one multiply.
    const float deltaScale = options.lossScale / static_cast<float>(k);
    if (deltaScale != 1.0f) popops::mulInPlace(graph, deltas, deltaScale, prog, {dc, "deltas/scale"});
    Tensor predicted = popnn::argMax(graph, probs, prog, {dc, "argmax"});
    Tensor hit =
        popops::map(graph, pe::Cast(pe::_1 == pe::_2, poplar::FLOAT), {predicted, mb.labelsK}, prog, {dc, "hit"});
    Tensor lossF = popops::cast(graph, loss, poplar::FLOAT, prog, {dc, "loss/cast"});
    // Per slot: mean over its K copies, then masked.
    Tensor lossSlot = popops::reduce(graph, lossF.reshape({m, k}), poplar::FLOAT, {1}, {popops::Operation::ADD}, prog);
    Tensor hitSlot = popops::reduce(graph, hit.reshape({m, k}), poplar::FLOAT, {1}, {popops::Operation::ADD}, prog);
    // Masked by selection: a padding slot's NaN loss must not reach the metrics.
    const float invK = 1.0f / static_cast<float>(k);
    Tensor lossMasked =
        popops::map(graph, clip::masked(PopopsDialect{}, invK), {lossSlot, mb.mask}, prog, {dc, "loss/masked"});
    Tensor hitMasked =
        popops::map(graph, clip::masked(PopopsDialect{}, invK), {hitSlot, mb.mask}, prog, {dc, "hit/masked"});
    return SlotMetrics{lossMasked, hitMasked, deltas};
}

Tensor sumAll(poplar::Graph& graph, const Tensor& t, Sequence& prog) {
    return popops::reduce(graph, t, poplar::FLOAT, {0}, {popops::Operation::ADD}, prog).reshape({1});
}

/** One micro-batch's sums for the call's metrics, and each slot's gradient norm (for the norms stream). */
struct ClipResult {
    Tensor step;  // {loss, correct, clipped, norm sum, non-finite}
    Tensor norm;  // [m]
};

/** The per-slot clipped sum of one micro-batch's gradients, added to accTrainable (fp32, by selection). */
ClipResult clipAndAccumulate(poplar::Graph& graph, const std::vector<Tensor>& grads,
                             const std::vector<std::size_t>& trainable, const MicroBatch& mb, const SlotMetrics& slot,
                             const Tensor& bounds, const Tensor& sameGroup, const Tensor& accTrainable,
                             poplar::Type type, Sequence& body, const poplar::DebugContext& dc,
                             const SessionOptions& options) {
    const std::size_t m = options.microBatchSize, T = trainable.size();
    // Per-slot gradients of the trainable tensors side by side, [m][P'] in fp32 (fp16 is cast once, so squares,
    // norms and products are all fp32: no fp16 subnormal products). Everything below is loss-scaled by S.
    PopopsDialect x;
    const float S = options.lossScale;
    std::vector<Tensor> flat;
    for (std::size_t i : trainable) flat.push_back(grads[i].reshape({m, grads[i].numElements() / m}));
    Tensor all = poplar::concat(flat, 1);
    Tensor g32 = type == poplar::FLOAT ? all : popops::cast(graph, all, poplar::FLOAT, body, {dc, "grads/fp32"});
    // Per-slot sums of squares per tensor, [m][T], each reduced in two pieces of at most kMaxReductionTerms
    // terms (clip::normSplit): the rounding error is then bounded whatever PopLibs' reduction order.
    std::vector<Tensor> sqCols;
    for (std::size_t t = 0, off = 0; t < T; ++t) {
        const std::size_t n = flat[t].dim(1), c = clip::normSplit(n);
        Tensor g = g32.slice(off, off + n, 1);
        off += n;
        Tensor sqT = popops::reduce(graph, g.reshape({m, n / c, c}), poplar::FLOAT, {2},
                                    {popops::Operation::SQUARE_ADD}, body, {dc, "norm/sq"});
        if (n / c > 1)
            sqT =
                popops::reduce(graph, sqT, poplar::FLOAT, {1}, {popops::Operation::ADD}, body, {dc, "norm/sq_pieces"});
        sqCols.push_back(sqT.reshape({m, 1}));
    }
    Tensor sq = poplar::concat(sqCols, 1);
    // Each tensor's group sum of squares, [m][T] = sq x same (same[u][t] = 1 when u and t share a clip group):
    // flat clipping is one group, per-layer clipping one group per layer or tensor (ClipPolicy).
    Tensor groupSq = poplin::matMul(graph, sq, sameGroup, body, poplar::FLOAT, {dc, "clip/group_sq"});
    Tensor total = popops::reduce(graph, sq, poplar::FLOAT, {1}, {popops::Operation::ADD}, body, {dc, "norm/total_sq"});
    auto perTensor = [&](const Tensor& slotValue) {
        return slotValue.reshape({m, 1}).broadcast(static_cast<unsigned>(T), 1);
    };
    Tensor boundsT = bounds.reshape({1, T}).broadcast(static_cast<unsigned>(m), 0);
    // factor[i][t] = min(1, C_t / ||g_i,group(t)||) (1 - margin) / S; exactly 0 for padding and non-finite
    // slots.
    Tensor factor = popops::map(graph, clip::factor(x, S), {groupSq, boundsT, perTensor(total), perTensor(mb.mask)},
                                body, {dc, "clip/factor"});
    // Each tensor's factor spread over its elements (views, no copy): [m][P'].
    std::vector<Tensor> spread;
    for (std::size_t t = 0; t < T; ++t)
        spread.push_back(factor.slice(t, t + 1, 1).broadcast(static_cast<unsigned>(flat[t].dim(1)), 1));
    // acc += sum_i factor_i * g_i in fp32, by selection (a NaN gradient times a zero factor adds 0, not NaN),
    // in place on the fp32 gradients (no further [m][P'] temporary). The host's coupling margin
    // (AccumulatorMargin.java) counts this as a tree of m + 1 leaves of unknown shape: <= m roundings per
    // leaf, in every micro-batch up to the drain. Changing it to something else must change that count.
    popops::mapInPlace(graph, clip::weighted(x), {g32, poplar::concat(spread, 1)}, body, {dc, "clip/scale"});
    popops::reduceWithOutput(graph, g32, accTrainable, {0}, {popops::Operation::ADD, true}, body,
                             {dc, "clip/accumulate"});

    // Metrics: clipped (any group above its bound), norm sum and non-finite count, all of real finite slots
    // only.
    Tensor clippedT =
        popops::map(graph, clip::clippedIndicator(x, S), {groupSq, boundsT}, body, {dc, "clip/clipped_groups"});
    Tensor clippedAny =
        popops::reduce(graph, clippedT, poplar::FLOAT, {1}, {popops::Operation::MAX}, body, {dc, "clip/clipped_any"});
    Tensor clipped =
        popops::map(graph, pe::Select(pe::_1, pe::Const(0.0f), pe::IsFinite(pe::_2) && (pe::_3 > pe::Const(0.0f))),
                    {clippedAny, total, mb.mask}, body, {dc, "clip/count"});
    Tensor normMasked = popops::map(graph, clip::metricNorm(x, S), {total, mb.mask}, body, {dc, "norm/masked"});
    Tensor nonFinite = popops::map(graph, clip::nonFinite(x), {total, mb.mask}, body, {dc, "norm/non_finite"});
    Tensor norm = popops::map(graph, clip::norm(x, S), {total}, body, {dc, "norm"});

    // A non-finite slot's loss and correctness stay out of the metrics too (BatchStats' policy); it is counted
    // instead.
    auto finiteOnly = [&](const Tensor& v, const char* name) {
        return popops::map(graph, pe::Select(pe::_1, pe::Const(0.0f), pe::IsFinite(pe::_2)), {v, total}, body,
                           {dc, name});
    };
    Tensor step = poplar::concat({sumAll(graph, finiteOnly(slot.loss, "loss/finite"), body),
                                  sumAll(graph, finiteOnly(slot.hit, "hit/finite"), body), sumAll(graph, clipped, body),
                                  sumAll(graph, normMasked, body), sumAll(graph, nonFinite, body)});
    return ClipResult{step, norm};
}

/** TRAIN: one device call = Repeat(A) over micro-batches: forward, backward, per-slot clip, mask, accumulate. */
void buildTrainProgram(poplar::Graph& graph, GraphBuilder& net, const SessionTensors& vars, const CallStreams& streams,
                       const std::vector<std::size_t>& trainable, const Shape& in, Sequence& prog,
                       const poplar::DebugContext& dc, const SessionOptions& options) {
    const poplar::Type type = net.computeType();
    const std::size_t T = trainable.size();
    if (type == poplar::HALF && options.stochasticRounding)
        poplar::setStochasticRounding(graph, prog, true, {dc, "sr"});
    prog.add(Copy(streams.clip, vars.clipTable));
    popops::zero(graph, vars.metrics, prog, {dc, "zero/metrics"});
    syncWeights(graph, net, vars.master, prog, dc);
    // Once per call: the bounds and the same-group matrix from the streamed group ids.
    Tensor bounds = vars.clipTable.slice(0, T);
    Tensor ids = vars.clipTable.slice(T, 2 * T);
    Tensor sameGroup = popops::map(graph, pe::Cast(pe::_1 == pe::_2, poplar::FLOAT),
                                   {ids.reshape({T, 1}).broadcast(static_cast<unsigned>(T), 1),
                                    ids.reshape({1, T}).broadcast(static_cast<unsigned>(T), 0)},
                                   prog, {dc, "clip/same_group"});
    // The accumulator's trainable coordinates (a view); frozen coordinates stay exactly 0.
    std::vector<Tensor> accParts;
    for (std::size_t i : trainable) {
        const auto& info = net.params()[i].info;
        accParts.push_back(vars.acc.slice(info.offset, info.offset + info.size()));
    }
    Tensor accTrainable = poplar::concat(accParts, 0);

    Sequence body;
    MicroBatch mb = readMicroBatch(graph, streams, in, type, body, dc, options);
    Tensor logits = net.forward(mb.x, body, /*record=*/true);
    SlotMetrics slot = lossAndMetrics(graph, mb, logits, type, body, dc, options);
    std::vector<Tensor> grads = net.backward(slot.deltas, body);
    ClipResult clipped =
        clipAndAccumulate(graph, grads, trainable, mb, slot, bounds, sameGroup, accTrainable, type, body, dc, options);
    popops::addInPlace(graph, vars.metrics, clipped.step, body, {dc, "metrics/add"});
    body.add(Copy(clipped.norm, streams.norms));

    prog.add(Repeat(static_cast<unsigned>(options.accumulation), body, {dc, "microbatches"}));
    prog.add(Copy(vars.metrics, streams.metrics));
}

/** EVAL: forward only, same streams and layout; the clip stream is unused. */
void buildEvalProgram(poplar::Graph& graph, GraphBuilder& net, const SessionTensors& vars, const CallStreams& streams,
                      const Shape& in, Sequence& prog, const poplar::DebugContext& dc, const SessionOptions& options) {
    const poplar::Type type = net.computeType();
    popops::zero(graph, vars.metrics, prog, {dc, "zero/metrics"});
    syncWeights(graph, net, vars.master, prog, dc);
    Sequence body;
    MicroBatch mb = readMicroBatch(graph, streams, in, type, body, dc, options);
    Tensor logits = net.forward(mb.x, body, /*record=*/false);
    SlotMetrics slot = lossAndMetrics(graph, mb, logits, type, body, dc, options);
    Tensor zero = graph.addConstant(poplar::FLOAT, {kMetrics - 2}, 0.0f, {dc, "zeroMetrics"});
    graph.setTileMapping(zero, 0);
    Tensor step = poplar::concat({sumAll(graph, slot.loss, body), sumAll(graph, slot.hit, body), zero});
    popops::addInPlace(graph, vars.metrics, step, body, {dc, "metrics/add"});
    prog.add(Repeat(static_cast<unsigned>(options.accumulation), body, {dc, "microbatches"}));
    prog.add(Copy(vars.metrics, streams.metrics));
}

/** The cross-replica sum of the clipped gradients over every instance's replicas, in place (GCL; none for one). */
void allReduceClippedSum(poplar::Graph& graph, Tensor acc, Sequence& prog, const poplar::DebugContext& dc,
                         const SessionOptions& options) {
    if (options.globalReplicas() > 1)  // every replica of every instance
        gcl::allReduceInPlaceCrossReplica(graph, acc, gcl::CollectiveOperator::ADD, prog, {dc, "allReduce"});
}

/**
 * DRAIN: the cross-replica clipped sum goes to the host; common/ adds noise and steps (the SPI path). GCL's
 * float32 all-reduce is counted by the host's coupling margin as any tree over all replicas (R - 1 roundings).
 */
void buildDrainProgram(poplar::Graph& graph, const Tensor& acc, const Chunks& chunks, Sequence& prog,
                       const poplar::DebugContext& dc, const SessionOptions& options) {
    allReduceClippedSum(graph, acc, prog, dc, options);
    copyToHost(graph, "gradOut", chunks, acc, prog, dc);
    popops::zero(graph, acc, prog, {dc, "zero/acc"});
}

/**
 * UPDATE (update=device): noise, 1/(qN) scaling and SGD with momentum on every replica, identically. The momentum
 * buffer's zeroing goes to init.
 */
void buildUpdateProgram(poplar::Graph& graph, const SessionTensors& vars, const Chunks& chunks, Sequence& init,
                        Sequence& prog, const poplar::DebugContext& dc, const SessionOptions& options) {
    const Tensor& master = vars.master;
    const Tensor& acc = vars.acc;
    Tensor hyper = graph.addVariable(poplar::FLOAT, {3}, {dc, "hyper"});  // {-lr, scale, sigma*C (fast mode)}
    graph.setTileMapping(hyper, 0);
    auto hyperIn = graph.addHostToDeviceFIFO("hyper", poplar::FLOAT, 3, poplar::ReplicatedStreamMode::BROADCAST);
    prog.add(Copy(hyperIn, hyper));
    allReduceClippedSum(graph, acc, prog, dc, options);
    Tensor noise;
    if (options.secureNoise) {
        // Secure mode: the host's CSPRNG noise, the same buffer for every replica.
        noise = graph.clone(master, {dc, "noise"});
        copyFromHost(graph, "noise", chunks, noise, prog, dc);
    } else {
        // Fast (insecure, seeded) mode: poprand::normal with one seed for all replicas
        // (poprand/RandomGen.hpp), so every replica draws the same noise; the seed advances every step.
        Tensor seed = graph.addVariable(poplar::UNSIGNED_INT, {2}, {dc, "seed"});
        graph.setTileMapping(seed, 0);
        std::vector<unsigned> seedValue{static_cast<unsigned>(options.seed), static_cast<unsigned>(options.seed >> 32)};
        graph.setInitialValue(seed, poplar::ArrayRef<unsigned>(seedValue));
        noise = poprand::normal(graph, &seed, 0, acc, poplar::FLOAT, 0.0, 1.0, prog, {dc, "noise"});
        popops::mulInPlace(graph, noise, hyper.slice(2, 3), prog, {dc, "noise/std"});
        popops::mapInPlace(graph, pe::_1 + pe::Const(1u), {seed.slice(0, 1)}, prog, {dc, "seed/advance"});
    }
    Tensor g = popops::add(graph, acc, noise, prog, {dc, "noisy"});
    popops::mulInPlace(graph, g, hyper.slice(1, 2), prog, {dc, "scale"});
    Tensor direction = g;
    if (options.momentum > 0) {
        Tensor velocity = graph.clone(master, {dc, "momentum"});
        popops::zero(graph, velocity, init, {dc, "zero/momentum"});
        const float mu = static_cast<float>(options.momentum);
        popops::scaledAddTo(graph, velocity, mu, g, 1.0f, prog, {dc, "momentum"});  // v = mu v + g
        direction = options.nesterov
                        ? popops::map(graph, pe::_1 + pe::Const(mu) * pe::_2, {g, velocity}, prog, {dc, "nesterov"})
                        : velocity;
    }
    popops::scaledAddTo(graph, master, direction, hyper.slice(0, 1), prog, {dc, "sgd"});  // master += (-lr) d
    popops::zero(graph, acc, prog, {dc, "zero/acc"});
}

}  // namespace

class IpuSessionImpl {
  public:
    IpuSessionImpl(const std::string& specText, const std::string& optionText)
        : spec_(parseNetworkSpec(specText)),
          opts_(parseSessionOptions(optionText)),
          layout_(opts_, spec_.input),
          params_(spec_.parameterCount()),
          feeder_(layout_),
          paramChunks_(streamChunks(params_, sizeof(float))) {
        checkLayout();
        attach();
        poplar::Executable exe = compileOrLoad(specText, optionText);
        engine_ = std::make_unique<poplar::Engine>(std::move(exe), engineOptions());
        connectStreams();
        engine_->load(device_);
        engine_->run(INIT);
    }

    ~IpuSessionImpl() { close(); }

    std::size_t parameterCount() const { return params_; }

    void loadParameters(const float* p, std::size_t n) {
        checkCount(n);
        paramsIn_ = p;
        engine_->run(WRITE_PARAMS);
        paramsIn_ = nullptr;
    }

    void saveParameters(float* p, std::size_t n) {
        checkCount(n);
        paramsOut_ = p;
        engine_->run(READ_PARAMS);
        paramsOut_ = nullptr;
    }

    std::size_t trainableTensors() const { return trainable_; }

    void runSteps(const float* inputs, const int* labels, const float* mask, std::size_t calls, const float* clipTable,
                  std::size_t n) {
        if (n != 2 * trainable_)
            throw std::invalid_argument("clip table holds " + std::to_string(n) + " values; the graph needs 2 x " +
                                        std::to_string(trainable_) +
                                        " (a bound and a group id per trainable parameter tensor)");
        for (std::size_t t = 0; t < trainable_; ++t)
            if (!(clipTable[t] >= 1e-30f))  // NaN fails too; +inf means no clipping
                throw std::invalid_argument("clip bound of trainable tensor " + std::to_string(t) +
                                            " must be >= 1e-30 (infinity: no clipping)");
        clipTable_.assign(clipTable, clipTable + n);
        run(TRAIN, inputs, labels, mask, calls);
    }

    void evaluate(const float* inputs, const int* labels, const float* mask, std::size_t calls) {
        run(EVAL, inputs, labels, mask, calls);
    }

    void drainGradientSum(float* out, std::size_t n) {
        checkCount(n);
        gradOut_ = out;
        engine_->run(DRAIN);
        gradOut_ = nullptr;
    }

    void lastSlotNorms(float* out, std::size_t n) {
        const auto& norms = feeder_.norms();
        if (n != norms.size())
            throw std::invalid_argument("norm buffer holds " + std::to_string(n) + " values; a call has " +
                                        std::to_string(norms.size()) + " slots");
        std::copy(norms.begin(), norms.end(), out);
    }

    void readMetrics(double* out, std::size_t n) {
        if (n != 6) throw std::invalid_argument("metrics buffer must hold 6 values");
        std::copy(std::begin(metrics_), std::end(metrics_), out);
        std::fill(std::begin(metrics_), std::end(metrics_), 0.0);
    }

    void applyUpdate(const float* noise, std::size_t n, float learningRate, float scale) {
        if (opts_.update != UpdateMode::Device)
            throw std::logic_error("applyUpdate needs the session option update=device");
        if (opts_.secureNoise)
            checkCount(n);
        else if (n != 1)
            throw std::invalid_argument("fast noise mode takes {sigma*C} (one value)");
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
    /** Refuses layouts Poplar cannot run, before attaching anything. */
    void checkLayout() {
        const std::size_t r = opts_.replicas;
        if ((r & (r - 1)) != 0)
            throw std::invalid_argument("replicas=" + std::to_string(r) +
                                        ": Poplar's device manager offers IPU groups of a power of two; use " +
                                        std::to_string(r > 1 ? std::size_t(1) << (63 - __builtin_clzll(r)) : 1) +
                                        " or " + std::to_string(std::size_t(1) << (64 - __builtin_clzll(r - 1))));
        const std::size_t inputBytes = layout_.inputsPerMicroBatch() * sizeof(float);
        if (inputBytes > kMaxStreamBytes)
            throw std::invalid_argument("one micro-batch of inputs is " + std::to_string(inputBytes) +
                                        " bytes, above Poplar's " + std::to_string(kMaxStreamBytes) +
                                        "-byte stream limit; lower micro_batch_size or multiplicity");
        std::vector<bool> frozen(spec_.parameters().size(), false);
        for (std::size_t i : opts_.frozen)
            if (i < frozen.size()) frozen[i] = true;
        trainable_ = static_cast<std::size_t>(std::count(frozen.begin(), frozen.end(), false));
        if (trainable_ == 0) throw std::invalid_argument("every parameter tensor is frozen: nothing to train");
        if (trainable_ > clip::kMaxTrainableTensors)
            throw std::invalid_argument(std::to_string(trainable_) +
                                        " trainable parameter tensors: the clip margin covers at most " +
                                        std::to_string(clip::kMaxTrainableTensors));
        for (const auto& p : spec_.parameters())
            clip::normSplit(p.size());  // refuses a tensor the margin cannot cover, before compiling
    }

    void checkCount(std::size_t n) const {
        if (n != params_)
            throw std::invalid_argument("parameter buffer holds " + std::to_string(n) + " values; the network has " +
                                        std::to_string(params_));
    }

    void attach() {
        if (opts_.ipuModel) {
            // Poplar's IPU Model (poplar/IPUModel.hpp): a CPU simulation of Mk2 IPUs, for checking the graph
            // on an SDK machine without hardware. Slow; small networks only.
            poplar::IPUModel model("ipu2");  // Mk2
            model.numIPUs = static_cast<unsigned>(opts_.replicas);
            device_ = model.createDevice();
            if (!device_.attach()) throw std::runtime_error("could not attach the IPU Model device");
            attached_ = true;
            return;
        }
        auto manager = poplar::DeviceManager::createDeviceManager();
        // One IPU per replica: a multi-IPU device of `replicas` IPUs (poplar/DeviceManager.hpp).
        auto devices = manager.getDevices(poplar::TargetType::IPU, static_cast<unsigned>(opts_.replicas));
        for (auto& d : devices) {
            if (d.attach()) {
                device_ = std::move(d);
                attached_ = true;
                return;
            }
        }
        std::string why = "could not attach " + std::to_string(opts_.replicas) +
                          " IPU(s): " + std::to_string(devices.size()) +
                          " matching device(s), all busy or absent (check gc-info -l and gc-monitor)";
        setAttachError(why);
        throw std::runtime_error(why);
    }

    poplar::Executable compileOrLoad(const std::string& specText, const std::string& optionText) {
        std::filesystem::path file;
        if (!opts_.executableCache.empty()) {
            std::filesystem::create_directories(opts_.executableCache);
            file =
                std::filesystem::path(opts_.executableCache) /
                ("dpsgd-" + executableCacheKey(specText, optionText, libraryVersion(), sdkVersion()) + ".poplar_exec");
            if (std::filesystem::exists(file)) {
                std::ifstream in(file, std::ios::binary);
                return poplar::Executable::deserialize(in);  // poplar/Executable.hpp
            }
        }
        // Under poprun the graph holds every instance's replicas, so GCL's cross-replica all-reduce in DRAIN sums
        // the whole run's clipped sums over the IPU-Links and gateway links; this instance runs its own subset.
        poplar::Graph graph(compileTarget(), poplar::replication_factor(static_cast<unsigned>(opts_.globalReplicas())));
        popops::addCodelets(graph);
        poplin::addCodelets(graph);
        popnn::addCodelets(graph);
        poprand::addCodelets(graph);
        std::vector<poplar::program::Program> programs = build(graph);
        poplar::Executable exe = poplar::compileGraph(graph, programs, engineOptions());
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

    /**
     * The target the graph is compiled for. One instance: the attached device's. Several (poprun): the
     * attached device holds this instance's IPUs only, so the target is built for all instances' IPUs
     * (replicas x instances of them, one IPU per replica) with the partition's IPU-Link options that
     * poprun exports in POPLAR_TARGET_OPTIONS, as TensorFlow's IPU executor builds its multi-replica
     * distribution target (poplar/Target.hpp: Target::createIPUTarget(numIPUs, system, options)).
     */
    poplar::Target compileTarget() const {
        const poplar::Target& local = device_.getTarget();
        if (opts_.instances <= 1) return local;
        const unsigned perReplica = local.getNumIPUs() / static_cast<unsigned>(opts_.replicas);
        const char* env = std::getenv("POPLAR_TARGET_OPTIONS");
        poplar::OptionFlags targetOptions;
        for (const auto& [k, v] : parseTargetOptions(env ? env : "")) targetOptions.set(k, v);
        return poplar::Target::createIPUTarget(static_cast<unsigned>(opts_.globalReplicas()) * perReplica,
                                               local.getTargetArchString(), targetOptions);
    }

    /** Compile and engine options: the runtime replica subset of this instance (none for one instance). */
    poplar::OptionFlags engineOptions() const {
        poplar::OptionFlags flags;
        for (const auto& [k, v] : runtimeReplicaOptions(opts_)) flags.set(k, v);
        return flags;
    }

    /** Builds every program; indices as in enum Program. Each program has its own builder (below the class). */
    std::vector<poplar::program::Program> build(poplar::Graph& graph) {
        GraphBuilder net(graph, spec_, opts_);
        SessionTensors vars = addSessionTensors(graph, params_, trainable_, {"session"});
        CallStreams streams = addCallStreams(graph, layout_, trainable_, opts_);
        // The trainable parameter tensors (frozen ones get no gradient and add nothing to the sum).
        std::vector<std::size_t> trainable;
        for (std::size_t i = 0; i < net.params().size(); ++i)
            if (net.trainable(i)) trainable.push_back(i);
        if (trainable.size() != trainable_)
            throw std::logic_error("trainable parameter count disagrees between the session and the graph");

        std::vector<poplar::program::Program> programs(NUM_PROGRAMS);
        // INIT: variables start undefined on the device; UPDATE adds the momentum's zeroing to it.
        Sequence init, train, eval, drain, writeParams, readParams, update;
        popops::zero(graph, vars.acc, init, {"zero/acc"});
        popops::zero(graph, vars.metrics, init, {"zero/metrics"});
        buildTrainProgram(graph, net, vars, streams, trainable, spec_.input, train, {"train"}, opts_);
        buildEvalProgram(graph, net, vars, streams, spec_.input, eval, {"eval"}, opts_);
        buildDrainProgram(graph, vars.acc, paramChunks_, drain, {"drain"}, opts_);
        copyFromHost(graph, "paramsIn", paramChunks_, vars.master, writeParams, {"writeParams"});
        copyToHost(graph, "paramsOut", paramChunks_, vars.master, readParams, {"readParams"});
        if (opts_.update == UpdateMode::Device)
            buildUpdateProgram(graph, vars, paramChunks_, init, update, {"update"}, opts_);
        programs[TRAIN] = train;
        programs[EVAL] = eval;
        programs[DRAIN] = drain;
        programs[WRITE_PARAMS] = writeParams;
        programs[READ_PARAMS] = readParams;
        programs[UPDATE] = update;
        programs[INIT] = init;
        return programs;
    }

    /** Wires the streams to callbacks; HostFeeder decides which bytes each replica's FIFO gets. */
    void connectStreams() {
        const std::size_t R = opts_.replicas;
        callMetrics_.assign(R * kMetrics, 0.0f);
        for (unsigned r = 0; r < R; ++r) {
            // poplar::Engine::connectStreamToCallback(handle, replicaIndex, callback): one callback per replica.
            // Under poprun the index is this instance's runtime replica 0..R-1 (as PopART's Devicex connects them),
            // not the global replica.
            engine_->connectStreamToCallback("inputs", r, [this, r](void* p) { feeder_.nextInputs(r, p); });
            engine_->connectStreamToCallback("labels", r, [this, r](void* p) { feeder_.nextLabels(r, p); });
            engine_->connectStreamToCallback("mask", r, [this, r](void* p) { feeder_.nextMask(r, p); });
            engine_->connectStreamToCallback("norms", r, [this, r](void* p) { feeder_.storeNorms(r, p); });
            engine_->connectStreamToCallback("metrics", r, [this, r](void* p) {
                std::memcpy(callMetrics_.data() + r * kMetrics, p, kMetrics * sizeof(float));
            });
            // Parameters and the all-reduced sum are identical on every replica: replica 0's copy is kept.
            for (std::size_t i = 0; i < paramChunks_.size(); ++i) {
                auto [b, e] = paramChunks_[i];
                engine_->connectStreamToCallback("paramsOut/" + std::to_string(i), r, [this, r, b = b, e = e](void* p) {
                    if (r == 0) std::memcpy(paramsOut_ + b, p, (e - b) * sizeof(float));
                });
                engine_->connectStreamToCallback("gradOut/" + std::to_string(i), r, [this, r, b = b, e = e](void* p) {
                    if (r == 0) std::memcpy(gradOut_ + b, p, (e - b) * sizeof(float));
                });
            }
        }
        // BROADCAST streams: one callback, no replica index (as TensorFlow's IPU plugin connects them).
        engine_->connectStreamToCallback(
            "clip", [this](void* p) { std::memcpy(p, clipTable_.data(), clipTable_.size() * sizeof(float)); });
        for (std::size_t i = 0; i < paramChunks_.size(); ++i) {
            auto [b, e] = paramChunks_[i];
            engine_->connectStreamToCallback("paramsIn/" + std::to_string(i), [this, b = b, e = e](void* p) {
                std::memcpy(p, paramsIn_ + b, (e - b) * sizeof(float));
            });
            if (opts_.update == UpdateMode::Device && opts_.secureNoise)
                engine_->connectStreamToCallback("noise/" + std::to_string(i), [this, b = b, e = e](void* p) {
                    std::memcpy(p, noiseIn_ + b, (e - b) * sizeof(float));
                });
        }
        if (opts_.update == UpdateMode::Device)
            engine_->connectStreamToCallback("hyper", [this](void* p) { std::memcpy(p, hyper_, sizeof(hyper_)); });
    }

    void run(Program program, const float* inputs, const int* labels, const float* mask, std::size_t calls) {
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
    const float* paramsIn_ = nullptr;
    const float* noiseIn_ = nullptr;
    float* paramsOut_ = nullptr;
    float* gradOut_ = nullptr;
    std::vector<float> clipTable_;  // per trainable tensor: bounds, then group ids
    std::vector<std::pair<std::size_t, std::size_t>> paramChunks_;
    std::size_t trainable_ = 0;
    float hyper_[3] = {0, 0, 0};
    std::vector<float> callMetrics_;
    double metrics_[6] = {0, 0, 0, 0, 0, 0};  // samples, loss sum, correct, clipped, norm sum, non-finite
};

IpuSession::IpuSession(const std::string& modelSpec, const std::string& options)
    : impl_(std::make_unique<IpuSessionImpl>(modelSpec, options)) {}

IpuSession::~IpuSession() = default;

namespace {
IpuSessionImpl& live(const std::unique_ptr<IpuSessionImpl>& p) {
    if (!p) throw std::logic_error("IPU session is closed");
    return *p;
}
}  // namespace

std::size_t IpuSession::parameterCount() const { return live(impl_).parameterCount(); }
void IpuSession::loadParameters(const float* p, std::size_t n) { live(impl_).loadParameters(p, n); }
void IpuSession::saveParameters(float* p, std::size_t n) { live(impl_).saveParameters(p, n); }
std::size_t IpuSession::trainableTensors() const { return live(impl_).trainableTensors(); }
void IpuSession::runSteps(const float* in, const int* labels, const float* mask, std::size_t calls,
                          const float* clipTable, std::size_t clipTableSize) {
    live(impl_).runSteps(in, labels, mask, calls, clipTable, clipTableSize);
}
void IpuSession::evaluate(const float* in, const int* labels, const float* mask, std::size_t calls) {
    live(impl_).evaluate(in, labels, mask, calls);
}
void IpuSession::drainGradientSum(float* out, std::size_t n) { live(impl_).drainGradientSum(out, n); }
void IpuSession::lastSlotNorms(float* out, std::size_t n) { live(impl_).lastSlotNorms(out, n); }
void IpuSession::readMetrics(double* out, std::size_t n) { live(impl_).readMetrics(out, n); }
void IpuSession::applyUpdate(const float* noise, std::size_t n, float lr, float scale) {
    live(impl_).applyUpdate(noise, n, lr, scale);
}

void IpuSession::close() {
    if (impl_) impl_->close();
    impl_.reset();
}

int IpuSession::deviceCount() {
    try {
        auto manager = poplar::DeviceManager::createDeviceManager();
        return static_cast<int>(manager.getDevices(poplar::TargetType::IPU, 1).size());
    } catch (const std::exception& e) {
        setAttachError(e.what());
        return 0;
    }
}

std::string IpuSession::attachError() {
    std::lock_guard<std::mutex> lock(errorMutex);
    return lastAttachError;
}

}  // namespace dpsgd::ipu
