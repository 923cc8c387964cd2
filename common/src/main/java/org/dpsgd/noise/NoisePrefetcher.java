package org.dpsgd.noise;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Prepares the next noise draw while the caller does other work. A training loop asks for the same
 * draw (length, std) every logical batch, so after the caller has used a draw, the prefetcher draws
 * the next one of that shape into the same buffer on a background daemon thread; the caller then
 * only waits for what is not ready yet. Meant for accelerators (the host draws noise while the
 * device computes); on a CPU backend it competes with the backend's threads and measured slower,
 * so the trainer leaves it off there. Every draw takes a fresh call index (its own keystream), whether
 * it was prepared ahead or made on request, so no noise is ever used twice. A prepared draw is used
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

    private record Shape(int n, double std) {}

    private final Draw draw;
    private final Map<Shape, CompletableFuture<double[]>> ready = new LinkedHashMap<>();

    NoisePrefetcher(Draw draw) {
        this.draw = draw;
    }

    /** A draw of n coordinates never returned before: the one prepared for this shape, or a new one. */
    synchronized double[] take(int n, double std) {
        CompletableFuture<double[]> pending = ready.remove(new Shape(n, std));
        return pending == null ? draw.draw(n, std, new double[n]) : join(pending);
    }

    /** Starts the next draw of this shape in the background, into {@code buffer} (which the caller no longer reads). */
    synchronized void prepare(int n, double std, double[] buffer) {
        if (buffer.length != n)
            throw new IllegalArgumentException("buffer of " + buffer.length + " for a draw of " + n);
        ready.put(new Shape(n, std), CompletableFuture.supplyAsync(() -> draw.draw(n, std, buffer), BACKGROUND));
        if (ready.size() > MAX_SHAPES) {
            Iterator<CompletableFuture<double[]>> eldest = ready.values().iterator();
            eldest.next().cancel(false);
            eldest.remove();
        }
    }

    /** Waits until every prepared draw is ready. */
    void settle() {
        List<CompletableFuture<double[]>> pending;
        synchronized (this) {
            pending = new ArrayList<>(ready.values());
        }
        for (CompletableFuture<double[]> f : pending) {
            if (!f.isCancelled()) join(f);
        }
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
