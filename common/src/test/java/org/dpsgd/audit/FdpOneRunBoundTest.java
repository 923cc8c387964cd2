package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FdpOneRunBoundTest {

    /**
     * Reference ε_lower values from an independent Python computation (numpy/scipy 'audit_rh_with_cap' port,
     * /work/notes/fdp/ref.py of the fdp branch's session): μ(ε, δ) by scipy brentq on
     * Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2) = δ, and ε_lower by brentq in ε space (xtol 1e-11), not the μ-space
     * bisection of the Java code.
     */
    @ParameterizedTest
    @CsvSource({
        "1000, 100, 75, 1e-4, 0.05, 0.841723588",
        "1000, 100, 75, 1e-5, 0.05, 1.005915905",
        "1000, 1000, 1000, 1e-5, 0.05, 12.334569481",
        "5000, 500, 450, 1e-5, 0.05, 2.776066252",
        "10000, 2000, 1500, 1e-6, 0.01, 1.393624401",
        "200, 20, 20, 1e-5, 0.05, 2.892102941",
        "100000, 4000, 3900, 1e-5, 0.0125, 3.959328724",
        "20000, 400, 390, 1e-8, 0.05, 5.250115159",
        "1000, 100, 60, 1e-5, 0.05, 0.043523028",
        "50000, 10000, 8000, 1e-5, 0.1, 2.027224408",
        "100, 10, 6, 1e-5, 0.05, 0.0"
    })
    void agreesWithAnIndependentPythonComputation(int m, int r, int v, double delta, double significance, double ref) {
        assertEquals(ref, FdpOneRunBound.epsilonLowerBound(m, r, v, delta, 1 - significance), 2e-6);
    }

    /** μ(ε, δ) from the same Python reference (scipy brentq, xtol 1e-14). */
    @ParameterizedTest
    @CsvSource({
        "1, 1e-5, 0.268051123211",
        "3, 1e-5, 0.719117435222",
        "10, 1e-5, 2.000445620431",
        "0.5, 1e-6, 0.124106149031",
        "8, 1e-8, 1.336194170101"
    })
    void convertsEpsilonDeltaToMuLikeTheReference(double eps, double delta, double mu) {
        assertEquals(mu, FdpOneRunBound.gaussianMu(eps, delta), 1e-10);
        assertEquals(eps, FdpOneRunBound.gaussianEpsilon(mu, delta), 1e-7);
        assertEquals(delta, FdpOneRunBound.gaussianDelta(eps, mu), 1e-6 * delta);
    }

    @Test
    void isTighterThanSteinkeOnTheWorkedExample() {
        // Appendix D of Steinke et al.: 0.67 with their bound; the Gaussian-curve test gets more from the same guesses.
        double steinke = PrivacyAudit.epsilonLowerBound(1000, 100, 75, 1e-4, 0.95);
        double fdp = FdpOneRunBound.epsilonLowerBound(1000, 100, 75, 1e-4, 0.95);
        assertTrue(fdp > steinke + 0.1, fdp + " vs " + steinke);
    }

    /**
     * Soundness by simulation: the idealised μ-GDP mechanism (score N(μ·coin, 1), the likelihood-ratio order) with
     * the TRUE μ claimed. For a fixed guess count the rejection rate must stay within the significance. The same
     * trials with a claim half the true μ are rejected most of the time, so the check has teeth (measured: 0–2
     * rejections of the true μ and 1765–2000 of μ/2 in 2000, i.e. the test is conservative).
     */
    @ParameterizedTest
    @CsvSource({"1.0, 1000, 50, 0.05, 1", "2.0, 2000, 100, 0.10, 2", "0.5, 1000, 250, 0.20, 3"})
    void rejectsTheTrueMuNoMoreOftenThanTheSignificance(double mu, int m, int k, double significance, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int trials = 2000, falseAlarms = 0, caught = 0;
        for (int t = 0; t < trials; t++) {
            int v = rightGuesses(rng, m, mu, k);
            if (FdpOneRunBound.rejects(m, 2 * k, v, mu, significance)) falseAlarms++;
            if (FdpOneRunBound.rejects(m, 2 * k, v, mu / 2, significance)) caught++;
        }
        System.out.printf(
                "μ=%s m=%d k=%d τ=%s: %d rejections of the true μ, %d of μ/2 in %d%n",
                mu, m, k, significance, falseAlarms, caught, trials);
        double slack = 3 * Math.sqrt(trials * significance * (1 - significance));
        assertTrue(
                falseAlarms <= trials * significance + slack, falseAlarms + " rejections of the true μ in " + trials);
        assertTrue(caught > trials / 2, "a claim half the true μ was rejected only " + caught + " times in " + trials);
    }

    /** The same through {@link PrivacyAudit#audit} with the default Bonferroni rule: ε_lower above the true ε at most 5% of runs. */
    @Test
    void theFullAuditOnTheTrueMuStaysBelowTheClaimAtTheConfidence() {
        SplittableRandom rng = new SplittableRandom(9);
        int m = 1000, trials = 300, above = 0;
        double mu = 1.5, delta = 1e-5, claim = FdpOneRunBound.gaussianEpsilon(mu, delta);
        for (int t = 0; t < trials; t++) {
            boolean[] in = new boolean[m];
            double[] s = new double[m];
            for (int i = 0; i < m; i++) {
                in[i] = rng.nextBoolean();
                s[i] = gaussian(rng) + (in[i] ? mu : 0);
            }
            AuditResult a = PrivacyAudit.audit(s, in, GuessRule.defaultFor(m), delta, 0.95, AuditBound.FDP);
            assertEquals(AuditBound.FDP, a.bound());
            if (a.epsilonLower() > claim) above++;
        }
        // Binomial(300, 0.05) exceeds 27 with probability < 0.1%.
        assertTrue(above <= 27, above + " audits above the true ε " + claim + " in " + trials);
    }

    @Test
    void growsWithRightGuessesAndShrinksWithConfidence() {
        double prev = -1;
        for (int v = 50; v <= 100; v += 5) {
            double e = FdpOneRunBound.epsilonLowerBound(1000, 100, v, 1e-5, 0.95);
            assertTrue(e >= prev, "v=" + v + ": " + e + " < " + prev);
            prev = e;
        }
        assertTrue(FdpOneRunBound.epsilonLowerBound(1000, 100, 90, 1e-5, 0.99)
                < FdpOneRunBound.epsilonLowerBound(1000, 100, 90, 1e-5, 0.95));
        // Larger δ at the same μ_lower means a smaller ε.
        assertTrue(FdpOneRunBound.epsilonLowerBound(1000, 100, 90, 1e-3, 0.95)
                < FdpOneRunBound.epsilonLowerBound(1000, 100, 90, 1e-5, 0.95));
    }

    @Test
    void edgeCases() {
        assertEquals(0.0, FdpOneRunBound.epsilonLowerBound(1000, 0, 0, 1e-5, 0.95));
        assertEquals(0.0, FdpOneRunBound.epsilonLowerBound(1000, 100, 0, 1e-5, 0.95));
        assertFalse(FdpOneRunBound.rejects(1000, 100, 50, 0, 0.05)); // half right is chance
        // v = r is the most an m can show; more canaries show more.
        double c1000 = FdpOneRunBound.epsilonLowerBound(1000, 1000, 1000, 1e-5, 0.95);
        assertTrue(c1000 < FdpOneRunBound.epsilonLowerBound(10000, 10000, 10000, 1e-5, 0.95));
        assertTrue(Double.isFinite(c1000) && c1000 > 0);
        assertEquals(0.0, FdpOneRunBound.gaussianEpsilon(0, 1e-5));
        // δ ≥ 2Φ(μ/2) − 1 means ε = 0.
        assertEquals(0.0, FdpOneRunBound.gaussianEpsilon(0.01, 0.5));
    }

    @Test
    void badInputsGiveClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.epsilonLowerBound(10, 5, 6, 1e-5, 0.95));
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.epsilonLowerBound(10, 11, 3, 1e-5, 0.95));
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.epsilonLowerBound(10, 5, 3, 1e-5, 1.0));
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.epsilonLowerBound(10, 5, 3, 0, 0.95));
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.epsilonLowerBound(10, 5, 3, 1.0, 0.95));
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.gaussianMu(-1, 1e-5));
        assertThrows(IllegalArgumentException.class, () -> FdpOneRunBound.gaussianDelta(1, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> AuditBound.parse("audit.bound", "gdp"));
        assertEquals(AuditBound.STEINKE, AuditBound.parse("audit.bound", null));
        assertEquals(AuditBound.FDP, AuditBound.parse("audit.bound", "fdp"));
    }

    private static int rightGuesses(SplittableRandom rng, int m, double mu, int k) {
        double[] in = new double[m], all = new double[m];
        boolean[] coin = new boolean[m];
        for (int i = 0; i < m; i++) {
            coin[i] = rng.nextBoolean();
            all[i] = gaussian(rng) + (coin[i] ? mu : 0);
            in[i] = all[i];
        }
        Arrays.sort(all);
        double top = all[m - k], bottom = all[k - 1]; // continuous scores: no ties
        int v = 0;
        for (int i = 0; i < m; i++) {
            if (in[i] >= top && coin[i]) v++;
            if (in[i] <= bottom && !coin[i]) v++;
        }
        return v;
    }

    private static double gaussian(SplittableRandom rng) {
        // Box–Muller: independent of the code under test.
        return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
}
