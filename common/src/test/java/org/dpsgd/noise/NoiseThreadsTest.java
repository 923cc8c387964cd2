package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.dpsgd.sampling.AesCtrStream;
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
        float[] out = v.clone();
        int n = to - from;
        for (int c = 0; (long) c * ChunkedGaussian.CHUNK < n; c++) {
            ReferenceNormals g = new ReferenceNormals(new AesCtrStream(KEY, call << 32 | c)::nextLong);
            int hi = Math.min(n, (c + 1) * ChunkedGaussian.CHUNK);
            for (int i = from + c * ChunkedGaussian.CHUNK; i < from + hi; i++) {
                out[i] = (float) (out[i] + 0.5 * std * (g.sample() + g.sample() + g.sample() + g.sample()));
            }
        }
        return out;
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
}
