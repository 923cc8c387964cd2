package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The book-keeping strategy's work after the backward pass: each tap's {@link Tap#measure}, then (once
 * the clip factors are known) each tap's {@link Tap#accumulateClipped}, each piece in its own
 * {@link TapScope}. On the CPU with at least two intra-op threads these pieces are mostly too small
 * for libtorch's intra-op parallelism, so one core idles while the other runs them one after
 * another (session 9, cnn9). Here they run on two threads: the caller and the {@link TapWorker},
 * with a fixed partition of the taps balanced by the elements each tap read back from the pass, when
 * those are few enough ({@link #AUTO_MAX_ELEMENTS}).
 *
 * <p>The results are the sequential path's, bit for bit: each tap computes exactly what it would
 * alone (no tap reads another's state; each op's result depends on its inputs and the intra-op
 * thread count, which the worker checks is the caller's, else it declines and the caller runs its
 * share); the norms are summed per group in tap order on the caller ({@link SlotNorms#recorder});
 * and the clipped sums run on two threads only when no two taps write the same parameter's
 * accumulator ({@link Tap#parameters}), so each accumulator sees the same adds in the same order.
 *
 * <p>Thread state: the worker runs with grad mode off (libtorch's is thread-local) and the graph
 * executor optimiser at the engine's configured value (thread-local too); both threads' arrays
 * belong to the model's manager (its registry is concurrent). DJL's NDScope stack is thread-local:
 * the worker's {@link TapScope}s close its temporaries there, and what a piece keeps (its tap's
 * {@link Tap#kept}, the recorded norms) is handed to the caller, which registers it in its step scope
 * whether the worker finished or failed. The caller always waits for the worker before returning
 * or throwing (the worker reads arrays of the caller's step scope), and a failure is rethrown as
 * the sequential path would throw it: the one of the earliest tap in tap order.
 */
final class TapPhases {
    /** When the two-thread path is used; {@link #AUTO} unless a test forces it. */
    enum Mode {
        /** Two threads where they pay: the setting on, the CPU, at least two intra-op threads. */
        AUTO,
        /** Two threads whenever the setting is on, whatever the device and thread count (tests). */
        ALWAYS,
        /** One thread, as before session 10. */
        NEVER
    }

    // The default mode; the oracle tests can be run with -Ddpsgd.parallel_taps=always (one intra-op thread there).
    static final Mode DEFAULT_MODE = Mode.valueOf(
            System.getProperty("dpsgd.parallel_taps", "auto").trim().toUpperCase(Locale.ROOT));

    private static final boolean CONFIGURED_OPTIMIZE =
            Boolean.parseBoolean(System.getProperty("ai.djl.pytorch.graph_optimizer", "true"));

    // Pieces the worker ran, ever: tests check that the two-thread path really ran on the worker.
    static final java.util.concurrent.atomic.AtomicLong WORKER_PIECES = new java.util.concurrent.atomic.AtomicLong();

    private final boolean setting;
    private final Device device;
    private final Mode mode;

    /** {@code setting}: the backend setting {@code parallel_taps} ({@link #enabled}); {@code device}: the model's. */
    TapPhases(boolean setting, Device device) {
        // -Ddpsgd.parallel_taps=always runs the oracle tests through the two-thread path whatever the setting.
        this(setting || DEFAULT_MODE == Mode.ALWAYS, device, DEFAULT_MODE);
    }

    /** With the mode given (tests compare {@link Mode#ALWAYS} against {@link Mode#NEVER}). */
    TapPhases(boolean setting, Device device, Mode mode) {
        this.setting = setting;
        this.device = device;
        this.mode = mode;
    }

    /**
     * The backend setting {@code parallel_taps}: on, or off (the default: session 10's quiet runs on this 2-vCPU
     * machine showed no gain, docs/benchmarks.md "Session 10: the merged main on a quiet machine").
     */
    static boolean enabled(org.dpsgd.backend.BackendOptions options) {
        String s = options.setting("parallel_taps", "off").trim().toLowerCase(Locale.ROOT);
        if (!s.equals("on") && !s.equals("off"))
            throw new IllegalArgumentException("backend setting parallel_taps must be on or off, got '" + s + "'");
        return s.equals("on");
    }

    /** For provenance: what a step of a model on {@code device} does with this setting now. */
    static String describe(boolean setting, Device device) {
        if (!setting) return "one thread (parallel_taps=off)";
        if (new TapPhases(true, device).twoThreads())
            return "two threads up to " + AUTO_MAX_ELEMENTS / 1_000_000 + " M elements read (parallel_taps=on)";
        return "one thread (parallel_taps=on, but "
                + (Device.Type.CPU.equals(device.getDeviceType()) ? "one intra-op thread" : "not the CPU") + ")";
    }

    /**
     * {@link Mode#AUTO} uses two threads only while the taps together read at most this many elements
     * (a step's sum of {@code cost}). Small taps' ops leave a core idle and gain from the worker
     * (small-cnn at batch 64: 1.6 M elements over 5 taps); large ones already use both cores through
     * intra-op parallelism, and a second OpenMP team then only competes for them (resnet18-gn at 3x32x32,
     * batch 64: 6.9 M over 41 taps, where the process spent ~7-12 % more CPU on two threads; session 10,
     * measured at load 6-9, docs/benchmarks.md "Session 10: taps on two threads"). A heuristic to confirm
     * on a quiet machine: {@code -Ddpsgd.parallel_taps=always} and {@code never} compare the two paths.
     */
    static final long AUTO_MAX_ELEMENTS = 4_000_000L;

    /** Whether a step now runs the taps on two threads (before the size rule, {@link #AUTO_MAX_ELEMENTS}). */
    boolean twoThreads() {
        if (!setting || mode == Mode.NEVER) return false;
        if (mode == Mode.ALWAYS) return true;
        return Device.Type.CPU.equals(device.getDeviceType()) && JniUtils.getNumThreads() >= 2;
    }

    /** Whether a step whose taps read {@code cost} runs them on two threads. */
    boolean twoThreads(long[] cost) {
        if (!twoThreads()) return false;
        if (mode == Mode.ALWAYS) return true;
        long sum = 0;
        for (long c : cost) sum += c;
        return sum <= AUTO_MAX_ELEMENTS;
    }

    /**
     * Runs each tap's {@link Tap#measure} into {@code sn}; {@code cost[t]} is tap t's size estimate
     * (elements it read back from the pass), used only to split the taps.
     */
    void measure(List<Tap> taps, long[] cost, SlotNorms sn) {
        boolean[] onWorker = twoThreads(cost) ? split(cost) : null;
        if (onWorker == null) {
            for (Tap t : taps) TapScope.run(() -> t.measure(sn), () -> keptBy(t, sn));
            return;
        }
        int n = taps.size();
        SlotNorms[] rec = new SlotNorms[n];
        for (int i = 0; i < n; i++) rec[i] = sn.recorder();
        runSplit(taps, onWorker, i -> taps.get(i).measure(rec[i]), i -> keptBy(taps.get(i), rec[i]));
        // The sums in tap order, as the sequential path makes them; the replaced partial sums are freed.
        TapScope.run(
                () -> {
                    for (SlotNorms r : rec) r.replayInto(sn);
                },
                sn::live);
    }

    /** Runs each tap's {@link Tap#accumulateClipped}; on two threads only if no parameter is shared. */
    void accumulate(List<Tap> taps, long[] cost, ClipFactors f) {
        boolean[] onWorker = twoThreads(cost) && disjoint(taps) ? split(cost) : null;
        if (onWorker == null) {
            for (Tap t : taps) TapScope.run(() -> t.accumulateClipped(f), List::of);
            return;
        }
        runSplit(taps, onWorker, i -> taps.get(i).accumulateClipped(f), i -> List.of());
    }

    /**
     * The fixed partition: taps by falling cost (ties: tap order), each to the side with less so far
     * (ties: the caller). Null when the worker would get nothing.
     */
    static boolean[] split(long[] cost) {
        int n = cost.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> cost[a] != cost[b] ? Long.compare(cost[b], cost[a]) : a - b);
        boolean[] onWorker = new boolean[n];
        long caller = 0;
        long worker = 0;
        boolean any = false;
        for (int i : order) {
            if (worker < caller) {
                onWorker[i] = true;
                worker += cost[i];
                any = true;
            } else caller += cost[i];
        }
        return any ? onWorker : null;
    }

    /** Whether no two taps name the same parameter (each accumulator is then written by one tap only). */
    static boolean disjoint(List<Tap> taps) {
        Set<Integer> seen = new HashSet<>();
        for (Tap t : taps) for (int p : t.parameters()) if (!seen.add(p)) return false;
        return true;
    }

    interface Piece {
        void run(int tap);
    }

    interface Kept {
        List<NDArray> of(int tap);
    }

    /** What the worker hands back: the arrays its pieces keep, and its first failure. */
    private static final class Share {
        final List<NDArray> kept = new ArrayList<>();
        boolean declined;
        int failedTap = -1;
        Throwable failure;
    }

    private void runSplit(List<Tap> taps, boolean[] onWorker, Piece piece, Kept kept) {
        int callerThreads = JniUtils.getNumThreads();
        Share share = new Share();
        // The caller's optimiser flag set as the worker's, so TorchScript calls run the same graphs on both.
        JniUtils.setGraphExecutorOptimize(CONFIGURED_OPTIMIZE);
        Future<?> done = TapWorker.submit(() -> ModelRuntime.withoutGrad(() -> {
            JniUtils.setGraphExecutorOptimize(CONFIGURED_OPTIMIZE);
            // An op's result may depend on the intra-op thread count (libtorch splits reductions by it), and the
            // count is per thread: a new thread takes libtorch's global value on its first op, so one set after the
            // worker started is adopted here (at::set_num_threads sets this thread's OpenMP count and the global
            // value, which is the caller's already). If it cannot be, the caller runs the worker's share.
            if (JniUtils.getNumThreads() != callerThreads) {
                try {
                    JniUtils.setNumThreads(callerThreads);
                } catch (UnsatisfiedLinkError e) {
                    // an engine library without set_num_threads: decline below
                }
            }
            if (JniUtils.getNumThreads() != callerThreads) {
                share.declined = true;
                return null;
            }
            for (int i = 0; i < onWorker.length; i++) {
                if (!onWorker[i]) continue;
                int t = i;
                try {
                    WORKER_PIECES.incrementAndGet();
                    TapScope.run(() -> piece.run(t), () -> {
                        List<NDArray> k = kept.of(t);
                        share.kept.addAll(k);
                        return k;
                    });
                } catch (RuntimeException | Error e) {
                    share.failedTap = t;
                    share.failure = e;
                    return null;
                }
            }
            return null;
        }));
        int callerFailedTap = -1;
        Throwable callerFailure = null;
        try {
            for (int i = 0; i < onWorker.length; i++) {
                if (onWorker[i]) continue;
                int t = i;
                callerFailedTap = t;
                TapScope.run(() -> piece.run(t), () -> kept.of(t));
            }
        } catch (RuntimeException | Error e) {
            callerFailure = e; // callerFailedTap is its tap: the caller's pieces stop at the first failure
        } finally {
            Throwable lost = await(done);
            // What the worker's pieces keep belongs to the step, like the caller's own pieces' (TapScope.run).
            for (NDArray a : share.kept) NDScope.register(a);
            if (lost != null && share.failure == null) {
                share.failure = lost;
                share.failedTap = -1; // the thread itself failed: report it first
            }
        }
        if (share.declined && callerFailure == null) {
            for (int i = 0; i < onWorker.length; i++) {
                if (!onWorker[i]) continue;
                int t = i;
                TapScope.run(() -> piece.run(t), () -> kept.of(t));
            }
            return;
        }
        Throwable first = callerFailure;
        Throwable second = share.failure;
        // The sequential path throws at the earliest failing tap; a failure of the worker thread itself first.
        if (share.failure != null && (callerFailure == null || share.failedTap < callerFailedTap)) {
            first = share.failure;
            second = callerFailure;
        }
        if (first == null) return;
        if (second != null && second != first) first.addSuppressed(second);
        if (first instanceof RuntimeException r) throw r;
        if (first instanceof Error err) throw err;
        throw new IllegalStateException(first);
    }

    /** Waits for the worker whatever happens (it reads the caller's arrays); returns its own failure, if any. */
    private static Throwable await(Future<?> done) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    done.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    return e.getCause();
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static List<NDArray> keptBy(Tap t, SlotNorms sn) {
        List<NDArray> keep = new ArrayList<>(t.kept());
        keep.addAll(sn.live());
        return keep;
    }
}
