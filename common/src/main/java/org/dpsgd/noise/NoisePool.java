package org.dpsgd.noise;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The threads that draw noise: a daemon fork-join pool of a fixed size, its own rather than the
 * JVM's common pool, so that noise gets the cores chosen for it (and only those) whatever else
 * uses the common pool. One pool per size is shared by every noise source of this JVM. A size of
 * 1 draws on the caller's thread. Which chunk gets which keystream never depends on the pool, so
 * neither do the values (tested: {@code NoiseThreadsTest}).
 */
public final class NoisePool {
    private static final Map<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();
    private static final Map<Integer, ForkJoinPool> IDLE_POOLS = new ConcurrentHashMap<>();

    private final int threads;
    private final boolean idle;
    private final ForkJoinPool pool;

    private NoisePool(int threads, boolean idle) {
        this.threads = threads;
        this.idle = idle;
        this.pool = threads == 1 ? null : (idle ? IDLE_POOLS : POOLS).computeIfAbsent(threads, t -> newPool(t, idle));
    }

    /** A pool of {@code threads} threads (1 = the caller's thread alone). */
    public static NoisePool of(int threads) {
        if (threads < 1) throw new IllegalArgumentException("noise threads must be >= 1, got " + threads);
        return new NoisePool(threads, false);
    }

    /**
     * A pool of {@code threads} threads at Linux's idle scheduling class ({@link IdlePriority}), for noise drawn
     * ahead while a CPU backend computes ({@link NoisePrefetch#IDLE}); a size of 1 draws on the caller's thread,
     * which is then the idle prefetch thread. Its own threads, apart from the ordinary pool's.
     */
    public static NoisePool idle(int threads) {
        if (threads < 1) throw new IllegalArgumentException("noise threads must be >= 1, got " + threads);
        return new NoisePool(threads, true);
    }

    /** Whether this pool's threads run at the idle scheduling class. */
    public boolean idle() {
        return idle;
    }

    /** All of this host's cores. */
    public static NoisePool allCores() {
        return of(Runtime.getRuntime().availableProcessors());
    }

    /**
     * How many threads noise should get. Noise drawn while the backend computes on this host's
     * cores (background prefetch on a CPU backend) gets the cores compute does not use (at least
     * one); otherwise, whether the device computes elsewhere or compute waits while noise is drawn,
     * noise gets every core.
     */
    public static int recommendedThreads(boolean computesOnHostCores, boolean drawnWhileComputing, int computeThreads) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (computesOnHostCores && drawnWhileComputing) return Math.max(1, cores - computeThreads);
        return cores;
    }

    /** The number of threads that draw (1 = the caller's thread). */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} once on each of the pool's threads' turn (queued to the pool, {@link #threads} times), or
     * hands it to {@code alone} where the pool has no threads of its own (a size of 1).
     */
    void onEachThread(Runnable task, java.util.function.Consumer<Runnable> alone) {
        if (pool == null) {
            alone.accept(task);
            return;
        }
        for (int i = 0; i < threads; i++) pool.execute(task);
    }

    interface ChunkBody {
        void run(int chunk, int from, int to);
    }

    /**
     * Runs body over the {@code chunk}-sized pieces of [0, n), spread over the pool's threads; returns when all are
     * done, and throws (the first failure) only when all are done too.
     */
    void forEachChunk(int n, int chunk, ChunkBody body) {
        int chunks = chunks(n, chunk);
        if (pool == null || chunks <= 1) {
            for (int c = 0; c < chunks; c++) body.run(c, c * chunk, end(n, chunk, c));
            return;
        }
        pool.invoke(new Chunks(0, chunks, n, chunk, body));
    }

    /**
     * As {@link #forEachChunk}, but returns at once with the work running on the pool's threads (its
     * own pool only; a size of 1, or at most {@link #CALLER_CHUNKS} chunks, runs it now on the
     * caller's thread): a caller can prepare the next piece of work meanwhile. Which chunk gets
     * which (chunk, from, to) does not change.
     */
    GaussianDraw.Pending start(int n, int chunk, ChunkBody body) {
        int chunks = chunks(n, chunk);
        if (pool == null || chunks <= CALLER_CHUNKS) {
            for (int c = 0; c < chunks; c++) body.run(c, c * chunk, end(n, chunk, c));
            return GaussianDraw.Pending.DONE;
        }
        ForkJoinTask<Void> task = pool.submit(new Chunks(0, chunks, n, chunk, body));
        return task::join;
    }

    /**
     * A {@link #start} of at most this many chunks runs on the caller's thread: waking parked pool
     * threads and waiting for the longer of two unequal chunks took longer than the work itself
     * (small-cnn's whole gradient, 20,586 coordinates = 2 chunks: 0.7-2.2 ms from start to done on the
     * pool, loaded machine, against ~0.5 ms of noise CPU; 0.54-0.63 ms on the caller; docs/benchmarks.md
     * "Session 8: small-cnn"). The values do not change: a chunk's noise is fixed by its index,
     * whoever draws it.
     */
    static final int CALLER_CHUNKS = 2;

    /**
     * ⌈n / chunk⌉ in long arithmetic: in int, n + chunk − 1 overflows for n above 2³¹ − chunk, the count turns
     * negative and no chunk (no noise) would be drawn at all (found by session 12's review).
     */
    static int chunks(int n, int chunk) {
        return (int) ((n + (long) chunk - 1) / chunk);
    }

    private static int end(int n, int chunk, int c) {
        return (int) Math.min(n, (long) (c + 1) * chunk);
    }

    /** Splits a range of chunks in halves until one is left, so idle threads steal the rest. */
    private static final class Chunks extends RecursiveAction {
        private final int lo, hi, n, chunk;
        private final ChunkBody body;

        Chunks(int lo, int hi, int n, int chunk, ChunkBody body) {
            this.lo = lo;
            this.hi = hi;
            this.n = n;
            this.chunk = chunk;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.run(lo, lo * chunk, end(n, chunk, lo));
                return;
            }
            int mid = (lo + hi) >>> 1;
            // Both halves run to their end even when one fails: invokeAll rethrows the first half's failure
            // without waiting for the second, and a caller told "done" must find no chunk still writing.
            Chunks left = new Chunks(lo, mid, n, chunk, body);
            Chunks right = new Chunks(mid, hi, n, chunk, body);
            right.fork();
            left.quietlyInvoke();
            right.quietlyJoin();
            left.join();
            right.join();
        }
    }

    private static ForkJoinPool newPool(int threads, boolean idle) {
        return new ForkJoinPool(
                threads,
                p -> {
                    var t = idle ? new IdleWorker(p) : ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                    // Linux shows 15 characters of a thread's name: idle threads all start "dpsgd-idle-".
                    t.setName((idle ? "dpsgd-idle-noise-" : "dpsgd-noise-") + threads + "-" + t.getPoolIndex());
                    t.setDaemon(true);
                    return t;
                },
                null,
                false);
    }

    /** A worker that moves itself to the idle scheduling class before it takes any chunk. */
    private static final class IdleWorker extends java.util.concurrent.ForkJoinWorkerThread {
        IdleWorker(ForkJoinPool p) {
            super(p);
        }

        @Override
        protected void onStart() {
            super.onStart();
            IdlePriority.lowerOrRecord();
        }
    }

    @Override
    public String toString() {
        return threads + (threads == 1 ? " thread" : " threads") + (idle ? " at idle priority" : "");
    }
}
