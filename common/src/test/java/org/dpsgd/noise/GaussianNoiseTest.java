package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Distribution checks of the noise: moments within 5 standard errors and a Kolmogorov-Smirnov
 * p-value above 1e-6 (for the unseeded secure source a false failure has probability of order
 * 1e-6 per check).
 */
class GaussianNoiseTest {
    private static void checkGaussian(float[] v, double offset, double std) {
        int n = v.length;
        double[] x = new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            x[i] = v[i] - offset;
            mean += x[i];
        }
        mean /= n;
        double m2 = 0, m4 = 0;
        for (double xi : x) {
            double d = xi - mean;
            m2 += d * d;
            m4 += d * d * d * d;
        }
        m2 /= n;
        m4 /= n;
        assertEquals(0, mean, 5 * std / Math.sqrt(n), "mean");
        assertEquals(std * std, m2, 5 * std * std * Math.sqrt(2.0 / n), "variance");
        assertEquals(0, m4 / (m2 * m2) - 3, 5 * Math.sqrt(24.0 / n), "excess kurtosis");
        double p = new KolmogorovSmirnovTest().kolmogorovSmirnovTest(new NormalDistribution(null, 0, std), x);
        assertTrue(p > 1e-6, "KS p-value " + p);
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.0, 2.5, 0.01})
    void secureNoiseIsGaussianWithTheRequestedStd(double std) {
        float[] v = new float[150_000];
        Arrays.fill(v, 1f);
        SecureGaussianNoise.create().addGaussian(v, std);
        checkGaussian(v, 1.0, std);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2})
    void fastInsecureNoiseIsGaussianWithTheRequestedStd(long seed) {
        float[] v = new float[150_000];
        NoiseSources.create(NoiseMode.FAST_INSECURE, seed, w -> {}).addGaussian(v, 3.0);
        checkGaussian(v, 0, 3.0);
    }

    @Test
    void chunksAndCallsUseIndependentStreams() {
        int c = ChunkedGaussian.CHUNK;
        float[] v = new float[3 * c];
        NoiseSource noise = SecureGaussianNoise.create();
        noise.addGaussian(v, 1.0);
        float[] w = new float[3 * c];
        noise.addGaussian(w, 1.0);
        double bound = 6 / Math.sqrt(c); // |correlation| of independent normals: sd 1/sqrt(n)
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
                if (a != b) assertTrue(Math.abs(correlation(v, a * c, v, b * c, c)) < bound, "chunks " + a + "," + b);
                assertTrue(Math.abs(correlation(v, a * c, w, b * c, c)) < bound, "calls, chunks " + a + "," + b);
            }
        }
        assertFalse(
                Arrays.equals(Arrays.copyOfRange(v, 0, 16), Arrays.copyOfRange(v, c, c + 16)), "no repeated stream");
    }

    private static double correlation(float[] x, int ox, float[] y, int oy, int n) {
        double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double a = x[ox + i], b = y[oy + i];
            sx += a;
            sy += b;
            sxy += a * b;
            sxx += a * a;
            syy += b * b;
        }
        double cov = sxy / n - sx / n * sy / n;
        return cov / Math.sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
    }

    @Test
    void onlyTheRequestedRangeIsTouched() {
        float[] v = new float[1000];
        SecureGaussianNoise.create().addGaussian(v, 100, 900, 1.0);
        for (int i = 0; i < 100; i++) assertEquals(0f, v[i]);
        for (int i = 900; i < 1000; i++) assertEquals(0f, v[i]);
        long nonZero = 0;
        for (int i = 100; i < 900; i++) if (v[i] != 0f) nonZero++;
        assertEquals(800, nonZero);
    }

    @Test
    void secureIsTheDefaultAndKeepsNoState() {
        List<String> warnings = new ArrayList<>();
        NoiseSource d = NoiseSources.create(null, 1, warnings::add);
        NoiseSource s = NoiseSources.create(NoiseMode.SECURE, 1, warnings::add);
        assertTrue(d.isSecure() && s.isSecure());
        assertTrue(warnings.isEmpty());
        assertNull(s.exportState());
        assertThrows(IllegalStateException.class, () -> s.restoreState(3));
        assertThrows(IllegalArgumentException.class, () -> NoiseMode.parse("privacy.noise", "fast"));
    }

    @Test
    void insecureNoiseWarnsAndIsReproducibleFromItsState() {
        List<String> warnings = new ArrayList<>();
        NoiseSource a = NoiseSources.create(NoiseMode.FAST_INSECURE, 42, warnings::add);
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).startsWith("WARNING: INSECURE NOISE")
                && warnings.get(0).contains("not for private data"));
        assertFalse(a.isSecure());
        float[] first = new float[70_000];
        a.addGaussian(first, 1.0);
        long state = a.exportState();
        float[] second = new float[70_000];
        a.addGaussian(second, 1.0);

        NoiseSource b = NoiseSources.create(NoiseMode.FAST_INSECURE, 42, w -> {});
        float[] again = new float[70_000];
        b.addGaussian(again, 1.0);
        assertArrayEquals(first, again, "same seed, same noise");
        NoiseSource c = NoiseSources.create(NoiseMode.FAST_INSECURE, 42, w -> {});
        c.restoreState(state);
        float[] resumed = new float[70_000];
        c.addGaussian(resumed, 1.0);
        assertArrayEquals(second, resumed, "restored state continues the stream");
        assertFalse(Arrays.equals(first, second));
    }

    @Test
    void secureNoiseDiffersBetweenInstances() {
        float[] a = new float[64], b = new float[64];
        SecureGaussianNoise.create().addGaussian(a, 1);
        SecureGaussianNoise.create().addGaussian(b, 1);
        assertFalse(Arrays.equals(a, b));
    }

    /** Prefetched draws are the draws the direct path makes for the same call indices, bit for bit. */
    @Test
    void prefetchedNoiseEqualsDirectNoiseCallForCall() {
        byte[] key = new byte[32];
        new java.util.SplittableRandom(7).nextBytes(key);
        SecureGaussianNoise direct = SecureGaussianNoise.withKey(key, false);
        SecureGaussianNoise ahead = SecureGaussianNoise.withKey(key, true);
        int n = 2 * ChunkedGaussian.CHUNK + 123;
        float[] previous = null;
        for (int call = 0; call < 4; call++) {
            float[] a = new float[n + 10], b = new float[n + 10];
            Arrays.fill(a, 0.25f);
            Arrays.fill(b, 0.25f);
            direct.addGaussian(a, 5, 5 + n, 1.5);
            ahead.addGaussian(b, 5, 5 + n, 1.5);
            assertArrayEquals(a, b, "call " + call);
            if (previous != null) assertFalse(Arrays.equals(previous, b), "a prepared buffer is never served twice");
            previous = b;
        }
    }

    @Test
    void prefetchedNoiseIsGaussianAndIndependentOfThePreviousDraw() {
        NoiseSource noise = SecureGaussianNoise.createWithPrefetch();
        int n = 150_000;
        float[] first = new float[n], second = new float[n];
        noise.addGaussian(first, 2.0);
        noise.awaitPrefetch();
        noise.addGaussian(second, 2.0); // served from the background draw
        checkGaussian(second, 0, 2.0);
        assertTrue(Math.abs(correlation(first, 0, second, 0, n)) < 6 / Math.sqrt(n));
    }

    /** Interleaved shapes (a trainer with frozen layers asks for one draw per trainable range): every draw is fresh. */
    @Test
    void interleavedShapesNeverShareADraw() {
        NoiseSource noise = SecureGaussianNoise.createWithPrefetch();
        List<float[]> draws = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (int n : new int[] {3000, 20_000, 3000 + round}) {
                float[] v = new float[n];
                noise.addGaussian(v, 1.0);
                draws.add(v);
            }
        }
        for (int i = 0; i < draws.size(); i++) {
            for (int j = i + 1; j < draws.size(); j++) {
                float[] a = draws.get(i), b = draws.get(j);
                int m = Math.min(a.length, b.length);
                assertFalse(
                        Arrays.equals(Arrays.copyOf(a, m), Arrays.copyOf(b, m)),
                        "draws " + i + " and " + j + " share a stream");
                assertTrue(
                        Math.abs(correlation(a, 0, b, 0, m)) < 6 / Math.sqrt(m),
                        "draws " + i + " and " + j + " correlated");
            }
        }
    }

    @Test
    void onlySecureNoiseIsPrefetchedAndSeededNoiseKeepsItsState() {
        NoiseSource seeded = NoiseSources.create(NoiseMode.FAST_INSECURE, 3, w -> {}, true);
        float[] v = new float[100];
        seeded.addGaussian(v, 1.0);
        seeded.awaitPrefetch();
        assertEquals(1L, seeded.exportState(), "a seeded source counts only the draws it served");
    }
}
