package org.dpsgd.noise;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Prepares the next noise draw while the caller does other work. A training loop asks for the same
 * draw (length, std) every logical batch, so after the caller has used a draw, the prefetcher draws
 * the next one of that shape into the same buffer on a background daemon thread; the caller then
 * only waits for what is not ready yet. For accelerators (the host draws noise while the device
 * computes) on ordinary threads; on a CPU backend those would compete with the backend's threads
 * (measured slower), so there it draws at idle priority ({@link #idle}, {@link NoisePrefetch#IDLE}).
 * Every draw takes a fresh call index (its own keystream), whether it was prepared ahead or made on
 * request, so no noise is ever used twice. A prepared draw is used
 * once and dropped; a few shapes are kept at most (a trainer with frozen layers asks for one per
 * trainable range).
 */
final class NoisePrefetcher {
    interface Draw {
        /** Fills {@code into} (length n) with a fresh draw of std·N(0,1) and returns it. */
        double[] draw(int n, double std, double[] into);
    }

    private static final int MAX_SHAPES = 8;
    private static final ExecutorService BACKGROUND = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dpsgd-noise-prefetch");
        t.setDaemon(true);
        return t;
    });

    // For NoisePrefetch.IDLE: its thread moves to the idle scheduling class before its first draw.
    private static final ExecutorService IDLE_BACKGROUND = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(
                () -> {
                    IdlePriority.lowerOrRecord();
                    r.run();
                },
                "dpsgd-idle-prefetch");
        t.setDaemon(true);
        return t;
    });

    private record Shape(int n, double std) {}

    /** A draw being made ahead. */
    interface Pending {
        /** The finished draw; rethrows its failure. Where the mode allows, the caller helps to finish it. */
        double[] get();

        /** Drops the draw: work not started is not done, and the buffer is never served. */
        void cancel();
    }

    /** Starts a draw of n coordinates of std·N(0,1), with a fresh call index, into {@code into}. */
    interface Starter {
        Pending start(int n, double std, double[] into);
    }

    private final Draw draw;
    private final Starter ahead;
    private final Map<Shape, Pending> ready = new LinkedHashMap<>();
    // Draws shorter than this are not prepared ahead (made when asked for, on the caller): see the idle constructor.
    private final long smallest;

    /** Draws ahead on the background thread, which spreads the chunks over the source's pool. */
    NoisePrefetcher(Draw draw) {
        this.draw = draw;
        this.smallest = 0;
        this.ahead = (n, std, into) -> {
            CompletableFuture<double[]> f = CompletableFuture.supplyAsync(() -> draw.draw(n, std, into), BACKGROUND);
            return new Pending() {
                @Override
                public double[] get() {
                    return join(f);
                }

                @Override
                public void cancel() {
                    f.cancel(false);
                }
            };
        };
    }

    /**
     * Draws ahead through {@code ahead} ({@link NoisePrefetch#IDLE}: a {@link SharedDraw} on idle threads), and a draw
     * that was not prepared too: started and finished at once, the caller filling the chunks the others do not take.
     * Draws of at most {@link NoisePool#CALLER_CHUNKS} chunks are not prepared: waking threads for them costs more
     * than drawing them on the caller (small-cnn: 2 chunks, ~0.5 ms), as {@link NoisePool#start} decides too.
     */
    static NoisePrefetcher idle(Starter ahead) {
        return new NoisePrefetcher(
                (n, std, into) -> ahead.start(n, std, into).get(),
                ahead,
                (long) NoisePool.CALLER_CHUNKS * ChunkedGaussian.CHUNK + 1);
    }

    private NoisePrefetcher(Draw draw, Starter ahead, long smallest) {
        this.draw = draw;
        this.ahead = ahead;
        this.smallest = smallest;
    }

    /** The idle prefetch thread, for an idle pool with no threads of its own (one thread: the caller's). */
    static void runIdle(Runnable r) {
        IDLE_BACKGROUND.execute(r);
    }

    /** A draw of n coordinates never returned before: the one prepared for this shape, or a new one. */
    synchronized double[] take(int n, double std) {
        Pending pending = ready.remove(new Shape(n, std));
        return pending == null ? draw.draw(n, std, new double[n]) : pending.get();
    }

    /** Starts the next draw of this shape in the background, into {@code buffer} (which the caller no longer reads). */
    synchronized void prepare(int n, double std, double[] buffer) {
        if (buffer.length != n)
            throw new IllegalArgumentException("buffer of " + buffer.length + " for a draw of " + n);
        if (n < smallest) return;
        // At most one live draw per shape: one it replaces is dropped (never served), so no buffer has two writers
        // that the caller could be served from.
        Pending replaced = ready.put(new Shape(n, std), ahead.start(n, std, buffer));
        if (replaced != null) replaced.cancel();
        if (ready.size() > MAX_SHAPES) {
            Iterator<Pending> eldest = ready.values().iterator();
            eldest.next().cancel();
            eldest.remove();
        }
    }

    /** Waits until every prepared draw is ready (helping where the mode allows); they stay prepared. */
    synchronized void settle() {
        // Under the lock, so no prepare() can drop (cancel) a draw this is waiting for.
        for (Pending p : new ArrayList<>(ready.values())) p.get();
    }

    private static double[] join(CompletableFuture<double[]> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for noise", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("drawing noise failed: " + e.getCause(), e.getCause());
        }
    }
}
