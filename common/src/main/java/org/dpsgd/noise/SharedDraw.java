package org.dpsgd.noise;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One draw (one call index) whose chunks any thread may fill, for noise drawn ahead at idle priority
 * ({@link NoisePrefetch#IDLE}). Chunk c of a call always gets the same values (its own keystream), so who fills
 * it does not matter. The idle threads claim chunks in order while the step computes; the caller that needs
 * the draw claims every chunk left at its own priority and then waits only for the chunks already being filled
 * (at most one per idle thread, 2¹⁴ coordinates each), so a machine too busy to give the idle threads any time
 * delays a step by a few chunks, not by the whole draw. The buffer is returned only once every chunk is
 * written: no thread writes to it after {@link #get} returns, so it can be handed to the next draw.
 */
final class SharedDraw implements NoisePrefetcher.Pending {
    /** Fills chunk {@code c}, coordinates [from, to) of the buffer. */
    interface Fill {
        void chunk(int c, int from, int to);
    }

    private final double[] out;
    private final int n;
    private final int chunks;
    private final Fill fill;
    private final AtomicInteger next = new AtomicInteger();
    private final CountDownLatch left;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean cancelled;

    SharedDraw(double[] out, int n, Fill fill) {
        if (out.length != n) throw new IllegalArgumentException("buffer of " + out.length + " for a draw of " + n);
        this.out = out;
        this.n = n;
        this.chunks = NoisePool.chunks(n, ChunkedGaussian.CHUNK);
        this.fill = fill;
        this.left = new CountDownLatch(chunks);
    }

    /** Fills chunks until none is left to claim (a thread that comes late returns at once). */
    void work() {
        for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
            try {
                fill.chunk(c, c * ChunkedGaussian.CHUNK, (int) Math.min(n, (long) (c + 1) * ChunkedGaussian.CHUNK));
            } catch (Throwable e) { // any failure fails the draw: a chunk counted done must be written
                failure.compareAndSet(null, e);
            } finally {
                left.countDown();
            }
        }
    }

    /** Fills what is left on this thread, waits for the chunks in progress elsewhere, and returns the draw. */
    @Override
    public double[] get() {
        // A dropped draw is never served: chunks nobody claimed still hold an earlier draw's values.
        if (cancelled) throw new IllegalStateException("a cancelled noise draw was asked for");
        work();
        try {
            left.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for noise", e);
        }
        Throwable f = failure.get();
        if (f != null) throw new IllegalStateException("drawing noise failed: " + f, f);
        return out;
    }

    /** Leaves the chunks nobody has claimed undone (the draw is dropped, never served). */
    @Override
    public void cancel() {
        cancelled = true;
        next.set(chunks);
    }

    /** Chunks claimed so far (by anyone): for tests. */
    int claimed() {
        return Math.min(next.get(), chunks);
    }
}
