package org.dpsgd.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Statistical checks of Poisson sampling. Bounds are 5 standard errors (two-sided normal tail
 * about 6e-7) or chi-square p-values above 1e-6: with the seeded sources the outcome is fixed, and
 * for the secure source a false failure has probability of that order.
 */
class PoissonSamplerTest {
    private static void checkBatchSizeDistribution(int n, double q, int steps, RandomSource random) {
        PoissonSampler s = new PoissonSampler(n, q, random);
        double sum = 0, sumSq = 0;
        for (int t = 0; t < steps; t++) {
            int l = s.next().length;
            sum += l;
            sumSq += (double) l * l;
        }
        double mean = sum / steps;
        double var = (sumSq - steps * mean * mean) / (steps - 1);
        double expectedVar = n * q * (1 - q);
        assertEquals(n * q, mean, 5 * Math.sqrt(expectedVar / steps), "mean batch size");
        // sd of a sample variance ≈ σ²·sqrt(2/(S-1)) for a near-normal variable (plus a small kurtosis term, covered by
        // the margin)
        assertEquals(
                expectedVar,
                var,
                5 * expectedVar * Math.sqrt(2.0 / (steps - 1)) + 0.05 * expectedVar,
                "batch size variance");
    }

    @ParameterizedTest
    @CsvSource({"1000, 0.05, 2000, 1", "5000, 0.01, 1000, 2", "200, 0.5, 2000, 3", "3000, 0.002, 3000, 4"})
    void batchSizeHasBinomialMeanAndVariance(int n, double q, int steps, long seed) {
        checkBatchSizeDistribution(n, q, steps, new SeededRandomSource(seed));
    }

    @Test
    void secureSourceGivesBinomialBatchSizes() {
        checkBatchSizeDistribution(2000, 0.03, 1500, SecureRandomSource.create());
    }

    @ParameterizedTest
    @CsvSource({"500, 0.1, 2000, 11", "300, 0.02, 5000, 12"})
    void everyExampleIsIncludedWithProbabilityQ(int n, double q, int steps, long seed) {
        PoissonSampler s = new PoissonSampler(n, q, new SeededRandomSource(seed));
        long[] counts = new long[n];
        for (int t = 0; t < steps; t++) for (int i : s.next()) counts[i]++;
        double expected = steps * q, var = steps * q * (1 - q);
        double chi2 = 0;
        for (long c : counts) chi2 += (c - expected) * (c - expected) / var;
        double p = 1 - new ChiSquaredDistribution(n).cumulativeProbability(chi2);
        assertTrue(p > 1e-6 && p < 1 - 1e-6, "chi-square of inclusion counts " + chi2 + " on " + n + " dof, p=" + p);
    }

    @Test
    void emptyBatchesOccurWhenNqIsSmall() {
        int n = 100, steps = 4000;
        double q = 0.005;
        PoissonSampler s = new PoissonSampler(n, q, new SeededRandomSource(7));
        int empty = 0;
        for (int t = 0; t < steps; t++) if (s.next().length == 0) empty++;
        double p0 = Math.pow(1 - q, n);
        assertEquals(p0, (double) empty / steps, 5 * Math.sqrt(p0 * (1 - p0) / steps));
    }

    @ParameterizedTest
    @CsvSource({"50, 0.9, 21", "1000, 0.3, 22", "1, 1.0, 23"})
    void batchesAreSortedDistinctAndInRange(int n, double q, long seed) {
        PoissonSampler s = new PoissonSampler(n, q, new SeededRandomSource(seed));
        for (int t = 0; t < 200; t++) {
            int[] b = s.next();
            for (int i = 0; i < b.length; i++) {
                assertTrue(b[i] >= 0 && b[i] < n);
                if (i > 0) assertTrue(b[i] > b[i - 1], "ascending without duplicates");
            }
        }
        if (q == 1.0) assertEquals(n, s.next().length, "q = 1 takes everything");
    }

    @Test
    void seededStateResumesTheSameStream() {
        PoissonSampler a = new PoissonSampler(400, 0.1, new SeededRandomSource(99));
        for (int t = 0; t < 5; t++) a.next();
        SamplerState saved = a.exportState();
        int[] next = a.next();
        PoissonSampler b = new PoissonSampler(400, 0.1, new SeededRandomSource(12345));
        b.restoreState(saved);
        assertArrayEquals(next, b.next());
        assertArrayEquals(a.next(), b.next());
    }

    @Test
    void secureSourceExportsNoStateAndRefusesRestore() {
        PoissonSampler s = new PoissonSampler(10, 0.5, SecureRandomSource.create());
        assertNull(s.exportState(), "a secure key must never be written out");
        SecureRandomSource r = SecureRandomSource.create();
        assertTrue(r.isSecure());
        assertThrows(IllegalStateException.class, () -> r.restoreState(new byte[16]));
    }

    @Test
    void twoSecureSourcesAreIndependentlyKeyed() {
        SecureRandomSource a = SecureRandomSource.create(), b = SecureRandomSource.create();
        int same = 0;
        for (int i = 0; i < 64; i++) if (a.nextLong() == b.nextLong()) same++;
        assertEquals(0, same);
    }

    @Test
    void rejectsBadRates() {
        RandomSource r = new SeededRandomSource(1);
        assertThrows(IllegalArgumentException.class, () -> new PoissonSampler(10, 0, r));
        assertThrows(IllegalArgumentException.class, () -> new PoissonSampler(10, 1.5, r));
        assertThrows(IllegalArgumentException.class, () -> new PoissonSampler(0, 0.5, r));
    }

    @Test
    void nextIntIsUniform() {
        RandomSource r = new SeededRandomSource(5);
        int k = 7, draws = 70000;
        long[] c = new long[k];
        for (int i = 0; i < draws; i++) c[r.nextInt(k)]++;
        double chi2 = 0, e = (double) draws / k;
        for (long v : c) chi2 += (v - e) * (v - e) / e;
        assertTrue(1 - new ChiSquaredDistribution(k - 1).cumulativeProbability(chi2) > 1e-6, "chi2=" + chi2);
    }
}
