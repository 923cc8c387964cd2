package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.apache.commons.statistics.distribution.BinomialDistribution;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PrivacyAuditTest {

    /**
     * The p-value of Steinke, Nasr &amp; Jagielski's Theorem 3.1 written out again with Commons
     * Statistics' binomial (an independent library and summation): β + 2mδ·max_i (F(v−1) − F(v−i−1))/i.
     */
    private static double referencePValue(int m, int r, int v, double eps, double delta) {
        BinomialDistribution b = BinomialDistribution.of(r, 1 / (1 + Math.exp(-eps)));
        if (v == 0) return 1;
        double beta = b.survivalProbability(v - 1);
        double alpha = 0;
        for (int i = 1; i <= v; i++) {
            double between = b.cumulativeProbability(v - 1) - (v - i - 1 >= 0 ? b.cumulativeProbability(v - i - 1) : 0);
            alpha = Math.max(alpha, between / i);
        }
        return Math.min(beta + 2 * m * delta * alpha, 1);
    }

    @Test
    void reproducesTheWorkedExampleOfAppendixD() {
        // Paper, Appendix D: m = 1000 canaries, r = 100 guesses, v = 75 right, δ = 1e-4, 95% → ε ≈ 0.67.
        double eps = PrivacyAudit.epsilonLowerBound(1000, 100, 75, 1e-4, 0.95);
        assertEquals(0.67, eps, 0.005);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void pValueMatchesAnIndependentBinomialComputation(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int trial = 0; trial < 20; trial++) {
            int m = 10 + rng.nextInt(3000);
            int r = 1 + rng.nextInt(m);
            int v = rng.nextInt(r + 1);
            double eps = rng.nextDouble() * 6;
            double delta = rng.nextBoolean() ? 0 : Math.pow(10, -3 - 4 * rng.nextDouble());
            double ours = PrivacyAudit.pValue(m, r, v, eps, delta);
            double ref = referencePValue(m, r, v, eps, delta);
            assertEquals(
                    ref,
                    ours,
                    1e-12 + 1e-9 * ref,
                    "m=" + m + " r=" + r + " v=" + v + " eps=" + eps + " delta=" + delta);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12, 13})
    void boundIsTheLargestEpsilonTheReferencePValueRejects(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int trial = 0; trial < 8; trial++) {
            int m = 100 + rng.nextInt(2000);
            int r = 10 + rng.nextInt(m - 10);
            int v = r / 2 + rng.nextInt(r - r / 2 + 1);
            double delta = 1e-5;
            double eps = PrivacyAudit.epsilonLowerBound(m, r, v, delta, 0.95);
            if (eps == 0) {
                assertTrue(referencePValue(m, r, v, 0, delta) >= 0.05);
                continue;
            }
            assertTrue(referencePValue(m, r, v, eps, delta) < 0.05, "ε_lower itself must be rejected");
            assertTrue(referencePValue(m, r, v, eps + 1e-6, delta) >= 0.05, "just above ε_lower must not be rejected");
        }
    }

    @Test
    void ceilingWithoutDeltaHasAClosedForm() {
        // v = r = m and δ = 0: p(ε)^m = 0.05 with p = e^ε/(1+e^ε), so ε = logit(0.05^(1/m)).
        for (int m : new int[] {100, 1000, 5000}) {
            double p = Math.pow(0.05, 1.0 / m);
            assertEquals(Math.log(p / (1 - p)), PrivacyAudit.ceiling(m, 0, 0.95), 1e-7);
        }
    }

    @Test
    void ceilingForOneThousandAndFiveThousandCanaries() {
        double c1000 = PrivacyAudit.ceiling(1000, 1e-5, 0.95);
        double c5000 = PrivacyAudit.ceiling(5000, 1e-5, 0.95);
        // The δ term can only lower the bound below the δ = 0 closed form (5.809 and 7.418).
        assertTrue(c1000 < PrivacyAudit.ceiling(1000, 0, 0.95) && c5000 < PrivacyAudit.ceiling(5000, 0, 0.95));
        assertEquals(5.8, c1000, 0.05); // the paper's "about 5.8"
        assertEquals(7.3, c5000, 0.05);
        // r = m is where an all-right audit peaks: fewer guesses, all right, never give more.
        for (int r : new int[] {50, 200, 500, 900})
            assertTrue(PrivacyAudit.epsilonLowerBound(1000, r, r, 1e-5, 0.95) < c1000);
    }

    @Test
    void randomScoresProveNothingMoreOftenThanTheSignificanceAllows() {
        // Scores independent of the coins are a 0-DP "mechanism": ε_lower > 0 is a false alarm, and
        // the theorem (with the Bonferroni-corrected default rule) allows at most 5% of them.
        SplittableRandom rng = new SplittableRandom(7);
        int trials = 300, alarms = 0;
        for (int t = 0; t < trials; t++) {
            int m = 200;
            double[] s = new double[m];
            boolean[] in = new boolean[m];
            for (int k = 0; k < m; k++) {
                s[k] = rng.nextDouble();
                in[k] = rng.nextBoolean();
            }
            if (PrivacyAudit.audit(s, in, GuessRule.defaultFor(m), 1e-5, 0.95).epsilonLower() > 0) alarms++;
        }
        // Binomial(300, 0.05) exceeds 25 with probability < 0.1%.
        assertTrue(alarms <= 25, alarms + " false alarms in " + trials);
    }

    @Test
    void perfectlySeparatedScoresReachTheRulesCeiling() {
        int m = 1000;
        SplittableRandom rng = new SplittableRandom(3);
        boolean[] in = new boolean[m];
        double[] s = new double[m];
        for (int k = 0; k < m; k++) {
            in[k] = rng.nextBoolean();
            s[k] = (in[k] ? 10 : 0) + rng.nextDouble();
        }
        GuessRule rule = GuessRule.defaultFor(m);
        AuditResult a = PrivacyAudit.audit(s, in, rule, 1e-5, 0.95);
        // Symmetric k₊ = k₋ = 500 are all right only if exactly 500 coins are IN; whatever the count, the best rule is
        // all right.
        assertEquals(a.guesses(), a.correct());
        assertTrue(a.epsilonLower() <= PrivacyAudit.ceiling(m, rule, 1e-5, 0.95) + 1e-12);
        assertTrue(a.epsilonLower() > 4.5, "ε_lower " + a.epsilonLower());
    }

    @Test
    void countsGuessesFromTopAndBottom() {
        double[] s = {5, 4, 3, 2, 1, 0};
        boolean[] in = {true, false, true, false, true, false};
        AuditResult a = PrivacyAudit.audit(s, in, new GuessRule.Fixed(2, 2), 0, 0.95);
        // IN guesses: canaries 0 (right) and 1 (wrong); OUT guesses: 4 (wrong) and 5 (right).
        assertEquals(4, a.guesses());
        assertEquals(2, a.correct());
        assertEquals(0.0, a.epsilonLower());
        GuessRule.Bonferroni two =
                new GuessRule.Bonferroni(List.of(new GuessRule.Fixed(1, 0), new GuessRule.Fixed(0, 1)));
        assertEquals(2, PrivacyAudit.audit(s, in, two, 0, 0.95).candidates());
    }

    @Test
    void refusesBadInput() {
        assertThrows(IllegalArgumentException.class, () -> PrivacyAudit.pValue(10, 5, 6, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> PrivacyAudit.epsilonLowerBound(10, 5, 3, 0, 1.0));
        assertThrows(
                IllegalArgumentException.class,
                () -> PrivacyAudit.audit(
                        new double[] {1, 2}, new boolean[] {true}, new GuessRule.Fixed(1, 0), 0, 0.95));
        assertThrows(
                IllegalArgumentException.class,
                () -> PrivacyAudit.audit(
                        new double[] {1, 2}, new boolean[] {true, false}, new GuessRule.Fixed(2, 1), 0, 0.95));
        assertThrows(
                IllegalArgumentException.class,
                () -> PrivacyAudit.audit(
                        new double[] {Double.NaN, 2}, new boolean[] {true, false}, new GuessRule.Fixed(1, 0), 0, 0.95));
    }
}
