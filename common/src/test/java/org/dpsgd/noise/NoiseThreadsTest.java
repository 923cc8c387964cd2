package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Secure noise does not depend on who draws it: for a fixed key, every thread count, pool, caller
 * thread and the prefetching path give the same floats, bit for bit, as an independent reference
 * written out here: chunk c of call t is (z1+z2+z3+z4)/2·std from the plain word-by-word sampler
 * ({@link ReferenceNormals}) reading AES-CTR stream t·2^32 + c (Commons RNG's ziggurat until
 * session 5).
 */
class NoiseThreadsTest {
    private static final byte[] KEY = new byte[32];

    static {
        new SplittableRandom(2026).nextBytes(KEY);
    }

    /** The reference: v[from..to) plus call {@code call}'s noise, chunk by chunk, one word at a time. */
    private static float[] reference(float[] v, int from, int to, double std, long call) {
        double[] wide = new double[v.length];
        for (int i = 0; i < v.length; i++) wide[i] = v[i];
        double[] noisy = ReferenceNormals.addSecureNoise(KEY, wide, from, to, std, call);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (float) noisy[i]; // one rounding, as the float path does
        return out;
    }

    /** The reference in double: v[from..to) plus the same words' noise, with no rounding to float. */
    private static double[] reference(double[] v, int from, int to, double std, long call) {
        return ReferenceNormals.addSecureNoise(KEY, v, from, to, std, call);
    }

    /** A double vector whose entries are not floats (so a rounding to float anywhere would show). */
    private static double[] start64(int length, long seed) {
        double[] v = new double[length];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) v[i] = r.nextGaussian() * (1 + 0x1p-40);
        return v;
    }

    private static float[] start(int length, long seed) {
        float[] v = new float[length];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < length; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** Three calls of several chunks each (a partial last chunk, an offset range) against the reference. */
    private static void checkCalls(NoiseSource noise) {
        int n = 5 * ChunkedGaussian.CHUNK + 777;
        for (long call = 0; call < 3; call++) {
            float[] v = start(n + 20, call);
            float[] expected = reference(v, 7, 7 + n, 1.3, call);
            noise.addGaussian(v, 7, 7 + n, 1.3);
            assertArrayEquals(expected, v, "call " + call);
        }
    }

    /** The double path: three calls against the double reference, bit for bit. */
    private static void checkCalls64(NoiseSource noise) {
        int n = 5 * ChunkedGaussian.CHUNK + 777;
        for (long call = 0; call < 3; call++) {
            double[] v = start64(n + 20, call);
            double[] expected = reference(v, 7, 7 + n, 1.3, call);
            noise.addGaussian(v, 7, 7 + n, 1.3);
            assertArrayEquals(expected, v, "call " + call);
        }
    }

    /** The fused path: out = round32(sum + noise) against the double reference rounded, sum untouched. */
    private static void checkRoundedCalls(NoiseSource noise) {
        int n = 5 * ChunkedGaussian.CHUNK + 777;
        for (long call = 0; call < 3; call++) {
            double[] sum = start64(n + 20, call);
            double[] copy = sum.clone();
            double[] expected = reference(sum, 7, 7 + n, 1.3, call);
            float[] out = new float[n + 20];
            noise.addGaussianRounded(sum, out, 7, 7 + n, 1.3);
            assertArrayEquals(copy, sum, "the sum is only read");
            for (int i = 0; i < n + 20; i++) {
                float want = i >= 7 && i < 7 + n ? (float) expected[i] : 0f;
                assertEquals(want, out[i], 0f, "call " + call + ", coordinate " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7})
    void theRoundedPathGivesTheReferenceValuesOnEveryThreadCount(int threads) {
        checkRoundedCalls(SecureGaussianNoise.withKey(KEY, false, NoisePool.of(threads)));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void prefetchedRoundedDrawsGiveTheReferenceValues(int threads) {
        checkRoundedCalls(SecureGaussianNoise.withKey(KEY, true, NoisePool.of(threads)));
    }

    /**
     * Noise drawn ahead on idle-priority threads (backend setting noise_prefetch=idle): the reference values on every
     * path. With 1 thread the idle prefetch thread draws alone; with 3, the idle pool's workers draw most chunks.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void idlePrefetchedDrawsGiveTheReferenceValues(int threads) {
        org.junit.jupiter.api.Assumptions.assumeTrue(IdlePriority.probe() == null, "no SCHED_IDLE here");
        checkCalls(SecureGaussianNoise.withKey(KEY, true, NoisePool.idle(threads)));
        checkCalls64(SecureGaussianNoise.withKey(KEY, true, NoisePool.idle(threads)));
        checkRoundedCalls(SecureGaussianNoise.withKey(KEY, true, NoisePool.idle(threads)));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7})
    void theDoublePathGivesTheReferenceValuesOnEveryThreadCount(int threads) {
        checkCalls64(SecureGaussianNoise.withKey(KEY, false, NoisePool.of(threads)));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void prefetchedDoubleDrawsGiveTheReferenceValues(int threads) {
        checkCalls64(SecureGaussianNoise.withKey(KEY, true, NoisePool.of(threads)));
    }

    /**
     * The double path adds the float path's draws: for a float vector widened to double, rounding
     * the double result to float gives the float path's result bit for bit, call after call (so
     * both paths take call indices alike), on the secure source with and without prefetch and on
     * the seeded one; and the double results are not all floats (no hidden rounding).
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void roundingTheDoublePathGivesTheFloatPath(int kind) {
        NoiseSource f = source(kind), d = source(kind), fused = source(kind);
        int n = 3 * ChunkedGaussian.CHUNK + 11;
        boolean notAllFloats = false;
        for (int call = 0; call < 3; call++) {
            float[] v = start(n, 40 + call);
            double[] w = new double[n];
            for (int i = 0; i < n; i++) w[i] = v[i];
            double[] w0 = w.clone();
            float[] direct = v.clone();
            fused.addGaussianRounded(w0, direct, 3, n - 2, 0.7);
            f.addGaussian(v, 3, n - 2, 0.7);
            d.addGaussian(w, 3, n - 2, 0.7);
            assertArrayEquals(v, direct, "fused, call " + call + " of source " + kind);
            float[] rounded = new float[n];
            for (int i = 0; i < n; i++) {
                rounded[i] = (float) w[i];
                notAllFloats |= rounded[i] != w[i];
            }
            assertArrayEquals(v, rounded, "call " + call + " of source " + kind);
        }
        assertEquals(true, notAllFloats);
    }

    private static NoiseSource source(int kind) {
        return switch (kind) {
            case 0 -> SecureGaussianNoise.withKey(KEY, false, NoisePool.of(2));
            case 1 -> SecureGaussianNoise.withKey(KEY, true, NoisePool.of(1));
            default -> new FastInsecureGaussianNoise(9, NoisePool.of(2));
        };
    }

    /** Seeded noise on the double path: the same on every pool, and a restored call count resumes the same draws. */
    @Test
    void seededDoubleNoiseIsTheSameOnEveryPoolAndResumes() {
        int n = 4 * ChunkedGaussian.CHUNK + 1;
        double[] one = new double[n], many = new double[n];
        new FastInsecureGaussianNoise(5, NoisePool.of(1)).addGaussian(one, 1.0);
        new FastInsecureGaussianNoise(5, NoisePool.of(3)).addGaussian(many, 1.0);
        assertArrayEquals(one, many);
        assertEquals(false, Arrays.equals(one, new double[n]));
        FastInsecureGaussianNoise straight = new FastInsecureGaussianNoise(5, NoisePool.of(2));
        double[] first = new double[n], second = new double[n];
        straight.addGaussian(first, 1.0);
        straight.addGaussian(second, 1.0);
        FastInsecureGaussianNoise resumed = new FastInsecureGaussianNoise(5, NoisePool.of(2));
        resumed.restoreState(straight.exportState() - 1);
        double[] again = new double[n];
        resumed.addGaussian(again, 1.0);
        assertArrayEquals(second, again);
        assertEquals(false, Arrays.equals(first, second));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7})
    void everyThreadCountGivesTheReferenceValues(int threads) {
        checkCalls(SecureGaussianNoise.withKey(KEY, false, NoisePool.of(threads)));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void prefetchedDrawsGiveTheReferenceValues(int threads) {
        checkCalls(SecureGaussianNoise.withKey(KEY, true, NoisePool.of(threads)));
    }

    /** Called from a worker of the common pool and of a foreign pool: the pool of the caller does not matter. */
    @Test
    void theCallersPoolDoesNotMatter() throws Exception {
        int n = 3 * ChunkedGaussian.CHUNK + 5;
        float[] expected = reference(start(n, 1), 0, n, 2.0, 0);
        float[] fromCommon = IntStream.of(0)
                .parallel()
                .mapToObj(i -> {
                    float[] v = start(n, 1);
                    SecureGaussianNoise.withKey(KEY, false, NoisePool.of(2)).addGaussian(v, 2.0);
                    return v;
                })
                .findFirst()
                .orElseThrow();
        assertArrayEquals(expected, fromCommon, "from the common pool");
        ForkJoinPool foreign = new ForkJoinPool(3);
        try {
            float[] fromForeign = foreign.submit(() -> {
                        float[] v = start(n, 1);
                        SecureGaussianNoise.withKey(KEY, false, NoisePool.of(4)).addGaussian(v, 2.0);
                        return v;
                    })
                    .get();
            assertArrayEquals(expected, fromForeign, "from a foreign fork-join pool");
        } finally {
            foreign.shutdown();
        }
    }

    /** Seeded noise is also independent of the thread count (its resume state is a call count). */
    @Test
    void seededNoiseIsTheSameOnEveryPool() {
        int n = 4 * ChunkedGaussian.CHUNK + 1;
        float[] one = new float[n], many = new float[n];
        new FastInsecureGaussianNoise(5, NoisePool.of(1)).addGaussian(one, 1.0);
        new FastInsecureGaussianNoise(5, NoisePool.of(3)).addGaussian(many, 1.0);
        assertArrayEquals(one, many);
        assertEquals(false, Arrays.equals(one, new float[n]));
    }

    @Test
    void poolSizesAreCheckedAndRecommendedSensibly() {
        assertThrows(IllegalArgumentException.class, () -> NoisePool.of(0));
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(cores, NoisePool.recommendedThreads(false, true, 1), "device computes elsewhere: every core");
        assertEquals(
                cores,
                NoisePool.recommendedThreads(true, false, cores),
                "compute waits while noise is drawn: every core");
        assertEquals(
                Math.max(1, cores - 1),
                NoisePool.recommendedThreads(true, true, 1),
                "alongside host compute: the cores it leaves");
        assertEquals(1, NoisePool.recommendedThreads(true, true, cores), "at least one");
        assertEquals(3, NoisePool.of(3).threads());
    }

    /**
     * A start of at most {@link NoisePool#CALLER_CHUNKS} chunks is drawn on the caller's thread, in chunk
     * order, and is done when start returns: no hand-off to parked pool threads for a small model's whole
     * gradient.
     */
    @Test
    void aSmallStartRunsOnTheCallersThreadAndIsDoneWhenItReturns() {
        NoisePool pool = NoisePool.of(2);
        Thread caller = Thread.currentThread();
        java.util.List<String> ran = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        int n = NoisePool.CALLER_CHUNKS * 8 - 3;
        GaussianDraw.Pending p = pool.start(
                n,
                8,
                (c, from, to) -> ran.add(c + ":" + from + "-" + to + (Thread.currentThread() == caller ? "" : "!")));
        assertTrue(p == GaussianDraw.Pending.DONE, "nothing left to wait for");
        java.util.List<String> expected = new java.util.ArrayList<>();
        for (int c = 0; c < NoisePool.CALLER_CHUNKS; c++) expected.add(c + ":" + 8 * c + "-" + Math.min(n, 8 * c + 8));
        assertEquals(expected, ran, "every chunk once, in order, on the caller's thread");
    }

    /** A piece of two chunks, drawn on the caller's thread whatever the pool, gives the reference values. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void aSmallStartedPieceGivesTheReferenceValues(int threads) {
        int n = NoisePool.CALLER_CHUNKS * ChunkedGaussian.CHUNK - 5;
        NoiseSource noise = SecureGaussianNoise.withKey(KEY, false, NoisePool.of(threads));
        for (long call = 0; call < 2; call++) {
            double[] sum = start64(n, 40 + call);
            double[] expected = reference(sum.clone(), 0, n, 1.3, call);
            float[] out = new float[n];
            noise.openDraw(n, 1.3).startAddRounded(sum, 0, 0, n, out, 0).await();
            for (int i = 0; i < n; i++)
                assertEquals((float) expected[i], out[i], 0f, "call " + call + ", coordinate " + i);
        }
    }

    /**
     * A chunk that fails must not leave its siblings running: the caller reuses the buffers they write as soon as the
     * call throws (review of noise7, M1: invokeAll rethrew the first half's failure without waiting for the second).
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aFailedChunkThrowsOnlyOnceEveryOtherChunkIsDone(boolean started) {
        NoisePool pool = NoisePool.of(2);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        NoisePool.ChunkBody body = (c, from, to) -> {
            if (c == 0) throw new IllegalStateException("chunk 0 failed");
            running.incrementAndGet();
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            running.decrementAndGet();
            finished.incrementAndGet();
        };
        int chunks = 64;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            if (started) pool.start(chunks * 8, 8, body).await();
            else pool.forEachChunk(chunks * 8, 8, body);
        });
        // (fork-join may rethrow a copy made on the caller's thread, the original as its cause)
        assertTrue(e.getMessage().contains("chunk 0 failed"), e.getMessage());
        assertEquals(0, running.get(), "chunks still running when the call threw");
        assertEquals(chunks - 1, finished.get(), "every other chunk ran to its end");
    }
}
