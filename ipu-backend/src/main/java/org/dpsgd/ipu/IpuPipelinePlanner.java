package org.dpsgd.ipu;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.dpsgd.ipu.IpuMemoryPlanner.Precision;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Proposes how to pipeline one replica of NanoBatch DP-SGD over several IPUs when it does not fit one
 * (or with a given number of stages): the network's top-level layers (a residual block is one unit)
 * split into S contiguous stages, one IPU each, with the memory of every stage. A plan, not an
 * implementation: the backend's graph is not pipelined (docs/ipu.md "Pipelined DP-SGD").
 *
 * <p>Per-stage memory, with the same heuristics as {@link IpuMemoryPlanner}, for a 1F1B schedule:
 * stage s (0 = first) keeps the activations of S − s micro-batches in flight, and keeps each
 * micro-batch's per-sample gradients of its parameters until that micro-batch's total norm is known,
 * which is when stage 0 finishes its backward pass: s + 1 micro-batches' worth. Weights, the fp32
 * master and accumulator, code (per tile and per op pass), temporaries and the activations crossing
 * each stage boundary (sent and received) are counted per stage.
 */
public final class IpuPipelinePlanner {
    /** Most stages proposed: an IPU-POD16 holds 16 IPUs. */
    public static final int MAX_STAGES = 16;

    private IpuPipelinePlanner() {}

    /** One top-level layer (or residual block) and what it costs per sample. */
    record Unit(
            String name,
            long parameters,
            long keptPerSample,
            long largestLivePerSample,
            long outputPerSample,
            long matmulOps,
            long otherOps) {}

    /** Stage {@code index} of {@code stages} holds units [from, to). */
    public record Stage(
            int index, int from, int to, String firstLayer, String lastLayer, long parameters, long bytes) {}

    /**
     * @param stages the split, empty when no split into at most {@link #MAX_STAGES} stages fits
     * @param ipusPerReplica stages rounded up to a power of two (Poplar's device groups)
     */
    public record Plan(
            Network network,
            int microBatchSize,
            int multiplicity,
            Precision precision,
            List<Stage> stages,
            int ipusPerReplica,
            long capacityBytes) {
        /** Whether a split fits (every stage within one IPU's usable memory). */
        public boolean feasible() {
            return !stages.isEmpty();
        }

        /** The plan as {@code dpsgd ipu plan} prints it: one line per stage. */
        public String render() {
            StringBuilder sb = new StringBuilder();
            if (!feasible()) {
                sb.append(String.format(
                        Locale.ROOT,
                        "pipeline             no split into at most %d stages fits (micro-batch %d)%n",
                        MAX_STAGES,
                        microBatchSize));
                return sb.toString();
            }
            sb.append(String.format(
                    Locale.ROOT,
                    "pipeline             %d stage(s) on %d IPU(s) per replica (micro-batch %d, 1F1B; planned, not implemented)%n",
                    stages.size(),
                    ipusPerReplica,
                    microBatchSize));
            for (Stage st : stages) {
                sb.append(String.format(
                        Locale.ROOT,
                        "  stage %-2d           %s .. %s: %,d parameters, %s of %s usable%n",
                        st.index(),
                        st.firstLayer(),
                        st.lastLayer(),
                        st.parameters(),
                        IpuMemoryPlanner.Estimate.mb(st.bytes()),
                        IpuMemoryPlanner.Estimate.mb(capacityBytes)));
            }
            return sb.toString();
        }
    }

    /** The split into the fewest stages that fit, or an infeasible plan. */
    public static Plan propose(Network network, int microBatchSize, int multiplicity, Precision precision) {
        List<Unit> units = units(network);
        for (int s = 1; s <= Math.min(MAX_STAGES, units.size()); s++) {
            Plan p = split(network, units, s, microBatchSize, multiplicity, precision);
            if (p.feasible()) return p;
        }
        return new Plan(network, microBatchSize, multiplicity, precision, List.of(), 0, IpuMemoryPlanner.usable());
    }

    /** The best split into exactly {@code stages} stages (smallest largest stage), or infeasible if none fits. */
    public static Plan propose(Network network, int stages, int microBatchSize, int multiplicity, Precision precision) {
        if (stages < 1 || stages > MAX_STAGES)
            throw new IllegalArgumentException("pipeline stages must be in [1, " + MAX_STAGES + "], got " + stages);
        List<Unit> units = units(network);
        if (stages > units.size()) {
            throw new IllegalArgumentException(network.name() + " has " + units.size()
                    + " top-level layers; it cannot be split into " + stages + " stages");
        }
        return split(network, units, stages, microBatchSize, multiplicity, precision);
    }

    /** Bytes of stage {@code index} of {@code stages} holding units [from, to). */
    static long stageBytes(
            List<Unit> units,
            int from,
            int to,
            int index,
            int stages,
            Network network,
            int m,
            int k,
            Precision precision) {
        long b = precision.bytes;
        long samples = (long) m * k;
        long p = 0, kept = 0, live = 0, mm = 0, other = 0;
        for (int u = from; u < to; u++) {
            Unit x = units.get(u);
            p += x.parameters();
            kept += x.keptPerSample();
            live = Math.max(live, x.largestLivePerSample());
            mm += x.matmulOps();
            other += x.otherOps();
        }
        long inFlightActivations = stages - index;
        long heldGradients = index + 1;
        long weights = 4 * p + (precision == Precision.FP16 ? 2 * p : 0) + 4 * p; // master, compute copy, accumulator
        weights += heldGradients * m * p * b; // per-sample gradients until the norm is known
        long activations = inFlightActivations * kept * samples * b;
        long temps = 2 * live * samples * b + (precision == Precision.FP16 ? (long) m * p * 4 : 0);
        long boundaryIn =
                from == 0 ? network.input().size() : units.get(from - 1).outputPerSample();
        long boundaryOut = units.get(to - 1).outputPerSample();
        long exchange = 2 * (boundaryIn + boundaryOut) * samples * b; // activations and gradients across the boundaries
        long code = IpuMemoryPlanner.MK2_TILES * IpuMemoryPlanner.CODE_PER_TILE
                + 3 * mm * IpuMemoryPlanner.CODE_PER_MATMUL_PASS
                + 2 * other * IpuMemoryPlanner.CODE_PER_OTHER_PASS;
        return weights + activations + temps + exchange + code;
    }

    /** Exact minimisation of the largest stage over contiguous splits (dynamic programming over units x stages). */
    private static Plan split(Network network, List<Unit> units, int stages, int m, int k, Precision precision) {
        int n = units.size();
        long inf = Long.MAX_VALUE;
        long[][] best = new long[stages + 1][n + 1]; // best[s][i]: smallest max stage for units [0, i) in s stages
        int[][] cut = new int[stages + 1][n + 1];
        for (long[] row : best) java.util.Arrays.fill(row, inf);
        best[0][0] = 0;
        for (int s = 1; s <= stages; s++) {
            for (int i = s; i <= n - (stages - s); i++) {
                for (int j = s - 1; j < i; j++) {
                    if (best[s - 1][j] == inf) continue;
                    long v = Math.max(best[s - 1][j], stageBytes(units, j, i, s - 1, stages, network, m, k, precision));
                    if (v < best[s][i]) {
                        best[s][i] = v;
                        cut[s][i] = j;
                    }
                }
            }
        }
        long capacity = IpuMemoryPlanner.usable();
        if (best[stages][n] > capacity) return new Plan(network, m, k, precision, List.of(), 0, capacity);
        List<Stage> out = new ArrayList<>();
        for (int s = stages, i = n; s > 0; i = cut[s][i], s--) {
            int j = cut[s][i];
            long p = 0;
            for (int u = j; u < i; u++) p += units.get(u).parameters();
            out.add(
                    0,
                    new Stage(
                            s - 1,
                            j,
                            i,
                            units.get(j).name(),
                            units.get(i - 1).name(),
                            p,
                            stageBytes(units, j, i, s - 1, stages, network, m, k, precision)));
        }
        return new Plan(network, m, k, precision, List.copyOf(out), nextPowerOfTwo(stages), capacity);
    }

    static int nextPowerOfTwo(int x) {
        return x <= 1 ? 1 : Integer.highestOneBit(x - 1) << 1;
    }

    /** The network's top-level layers as pipeline units (a residual block is one unit). */
    static List<Unit> units(Network network) {
        List<Unit> out = new ArrayList<>();
        Shape s = network.input();
        for (Layer l : network.layers()) {
            IpuMemoryPlanner.Walk w = new IpuMemoryPlanner.Walk();
            Shape o = w.walk(List.of(l), s, true);
            String previous = out.isEmpty() ? "input" : out.get(out.size() - 1).name();
            out.add(new Unit(
                    name(l, previous), parameters(l), w.kept, w.largestLive, o.size(), w.matmulOps, w.otherOps));
            s = o;
        }
        return out;
    }

    private static long parameters(Layer l) {
        long n = 0;
        for (var p : l.ownParameters()) n += p.size();
        if (l instanceof Layer.Residual r) {
            for (Layer x : r.main()) n += parameters(x);
            for (Layer x : r.shortcut()) n += parameters(x);
        }
        return n;
    }

    /** A layer's own name, or for unnamed layers (activations, pooling) the previous unit's name and the kind: "layer1.2/relu". */
    private static String name(Layer l, String previous) {
        if (l instanceof Layer.Conv2d c) return c.name();
        if (l instanceof Layer.Linear lin) return lin.name();
        if (l instanceof Layer.GroupNorm g) return g.name();
        if (l instanceof Layer.Residual r) return r.name();
        String kind = l instanceof Layer.Activation a
                ? a.kind().toString().toLowerCase(Locale.ROOT)
                : l.getClass().getSimpleName().toLowerCase(Locale.ROOT);
        return previous.replaceAll("/.*$", "") + "/" + kind;
    }
}
