package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ObservedScoreTest {
    private static final double Q = 0.01;

    private static float[][] noisy(int m, int steps, double sigma, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] g = new float[m][steps];
        for (float[] row : g) for (int t = 0; t < steps; t++) row[t] = (float) (sigma * rng.nextGaussian());
        return g;
    }

    @Test
    void aCoordinateWithoutNoiseIsScoredAtItsOwnLevel() {
        float[][] g = noisy(200, 500, 1.0, 1);
        java.util.Arrays.fill(g[0], 0f);
        for (int t = 0; t < 5; t++) g[0][t * 100] = 1f; // sampled 5 times, no noise: an exposed IN canary
        java.util.Arrays.fill(g[1], 0f); // no noise, never sampled: an exposed OUT canary
        double[] s = CanaryScore.observedScores(g, 500, Q);
        for (int k = 2; k < s.length; k++) {
            assertTrue(s[0] > s[k], "exposed IN canary below canary " + k);
            assertTrue(s[1] < s[k], "exposed OUT canary above canary " + k);
        }
    }

    @Test
    void honestCoordinatesShareThePooledNoiseLevel() {
        // All noise at σ = 0.5: every canary must be scored at one pooled σ̂ ≈ 0.5, i.e. exactly as the
        // claimed-σ likelihood ratio at that σ̂ would score it (same ranking, same values).
        float[][] g = noisy(300, 400, 0.5, 2);
        double[] s = CanaryScore.observedScores(g, 400, Q);
        double[] own = new double[g.length];
        for (int k = 0; k < g.length; k++) {
            double[] v = new double[400];
            for (int t = 0; t < 400; t++) v[t] = g[k][t];
            java.util.Arrays.sort(v);
            double med = 0.5 * (v[199] + v[200]);
            for (int t = 0; t < 400; t++) v[t] = Math.abs(v[t] - med);
            java.util.Arrays.sort(v);
            own[k] = 1.4826 * 0.5 * (v[199] + v[200]);
        }
        double[] sorted = own.clone();
        java.util.Arrays.sort(sorted);
        double pooled = 0.5 * (sorted[149] + sorted[150]);
        assertEquals(0.5, pooled, 0.02);
        for (int k = 0; k < g.length; k++) {
            double ref = 0;
            for (int t = 0; t < 400; t++) ref += CanaryScore.LIKELIHOOD_RATIO.term(g[k][t], Q, pooled);
            assertEquals(ref, s[k], 1e-9 * (1 + Math.abs(ref)), "canary " + k);
        }
    }
}
