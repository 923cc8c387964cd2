package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link SharedDraw}, the idle prefetch's draw: every chunk is filled exactly once whoever fills it, the caller
 * fills what the idle threads have not claimed (so starved idle threads delay it by their chunks in progress only),
 * {@code get} never returns while a chunk is still being written, a failed chunk fails the draw, and a cancelled
 * draw starts no more chunks. The values against the word-by-word reference: {@code NoiseThreadsTest}.
 */
@org.junit.jupiter.api.Timeout(60) // a mutation that makes get() wait forever fails here instead of hanging the build
class SharedDrawTest {
    private static final int C = ChunkedGaussian.CHUNK;

    /** Chunk c's coordinates get c + 1 (so a missed or doubled chunk shows). */
    private static SharedDraw counting(double[] out, int n, AtomicInteger[] fills) {
        return new SharedDraw(out, n, (c, from, to) -> {
            fills[c].incrementAndGet();
            for (int i = from; i < to; i++) out[i] += c + 1;
        });
    }

    private static AtomicInteger[] counters(int chunks) {
        AtomicInteger[] a = new AtomicInteger[chunks];
        for (int i = 0; i < chunks; i++) a[i] = new AtomicInteger();
        return a;
    }

    @ParameterizedTest(name = "n = {0}")
    @ValueSource(ints = {1, C - 1, C, C + 1, 5 * C + 777})
    void withNoOtherThreadTheCallerFillsEveryChunkOnce(int n) {
        int chunks = (n + C - 1) / C;
        AtomicInteger[] fills = counters(chunks);
        double[] out = new double[n];
        SharedDraw d = counting(out, n, fills);
        assertSame(out, d.get());
        for (int c = 0; c < chunks; c++) assertEquals(1, fills[c].get(), "chunk " + c);
        for (int i = 0; i < n; i++) assertEquals(i / C + 1, out[i], "coordinate " + i);
    }

    @Test
    void manyThreadsAndTheCallerFillEveryChunkExactlyOnce() throws Exception {
        int n = 40 * C + 5;
        AtomicInteger[] fills = counters(41);
        double[] out = new double[n];
        SharedDraw d = counting(out, n, fills);
        CompletableFuture<?>[] workers = new CompletableFuture<?>[3];
        for (int w = 0; w < 3; w++) workers[w] = CompletableFuture.runAsync(d::work);
        double[] got = d.get();
        CompletableFuture.allOf(workers).get(30, TimeUnit.SECONDS);
        for (int c = 0; c < 41; c++) assertEquals(1, fills[c].get(), "chunk " + c);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = i / C + 1;
        assertArrayEquals(expected, got);
    }

    /**
     * An idle thread that holds a chunk and gets no CPU (here: blocked) delays the caller by that chunk only: the
     * caller fills all the others, and returns only once the held chunk is written, never before.
     */
    @Test
    void aStarvedThreadDelaysTheCallerByItsChunkOnlyAndIsWaitedFor() throws Exception {
        int n = 8 * C;
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger byCaller = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean returned = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean returnedBeforeRelease =
                new java.util.concurrent.atomic.AtomicBoolean();
        Thread caller = Thread.currentThread();
        double[] out = new double[n];
        SharedDraw d = new SharedDraw(out, n, (c, from, to) -> {
            if (Thread.currentThread() != caller) {
                holding.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            } else byCaller.incrementAndGet();
            Arrays.fill(out, from, to, c + 1);
        });
        Thread starved = new Thread(d::work, "starved idle thread");
        starved.start();
        assertTrue(holding.await(30, TimeUnit.SECONDS), "the idle thread claimed a chunk");
        Thread releaser = new Thread(() -> {
            try {
                while (byCaller.get() < 7) Thread.sleep(1);
                Thread.sleep(50); // time enough for get() to return if it did not wait
                returnedBeforeRelease.set(returned.get());
                release.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        releaser.start();
        double[] got = d.get();
        returned.set(true);
        releaser.join();
        starved.join();
        assertFalse(returnedBeforeRelease.get(), "get() returned while a chunk was still being written");
        assertEquals(7, byCaller.get(), "the caller filled every chunk the idle thread did not hold");
        for (int i = 0; i < n; i++) assertEquals(i / C + 1, got[i], "coordinate " + i);
    }

    @Test
    void aFailedChunkFailsTheDrawInsteadOfServingIt() {
        int n = 3 * C;
        SharedDraw d = new SharedDraw(new double[n], n, (c, from, to) -> {
            if (c == 1) throw new ArithmeticException("chunk 1 broke");
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, d::get);
        assertTrue(e.getMessage().contains("chunk 1 broke"), e.getMessage());
    }

    @Test
    void aCancelledDrawStartsNoMoreChunks() {
        int n = 4 * C;
        AtomicInteger[] fills = counters(4);
        SharedDraw d = counting(new double[n], n, fills);
        d.cancel();
        d.work();
        assertEquals(4, d.claimed());
        for (AtomicInteger f : fills) assertEquals(0, f.get());
    }

    /** A dropped draw is never served (its unclaimed chunks hold an earlier draw's values): get() refuses. */
    @Test
    void aCancelledDrawIsNeverServed() {
        int n = 3 * C;
        SharedDraw d = new SharedDraw(new double[n], n, (c, from, to) -> {});
        d.cancel();
        assertThrows(IllegalStateException.class, d::get);
    }

    /** n close to 2³¹: the chunk count is computed in long (in int it overflowed and no chunk at all was drawn). */
    @Test
    void theChunkCountDoesNotOverflowNearTwoToThe31() {
        assertEquals(131_072, NoisePool.chunks(Integer.MAX_VALUE, C));
        assertEquals(1, NoisePool.chunks(1, C));
        assertEquals(2, NoisePool.chunks(C + 1, C));
    }

    @Test
    void aBufferOfTheWrongLengthIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SharedDraw(new double[5], 6, (c, f, t) -> {}));
    }
}
