package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class PldAccountantTest {

    private static PldAccountant run(double q, double sigma, long steps) {
        PldAccountant a = new PldAccountant();
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(q, sigma), steps));
        return a;
    }

    @ParameterizedTest(name = "σ={0} T={1} δ={2}")
    @CsvSource({"1.0, 1, 1e-5", "2.0, 100, 1e-5", "5.0, 1000, 1e-6", "0.8, 10, 1e-3", "20.0, 10000, 1e-5"})
    void composedGaussianIsAnUpperBoundCloseToTheExactCurve(double sigma, long steps, double delta) {
        double mu = Math.sqrt(steps) / sigma;
        double exact = GaussianOracle.epsilonFor(e -> GaussianOracle.gaussianDelta(mu, e), delta);
        double pld = run(1.0, sigma, steps).epsilon(delta);
        assertTrue(pld >= exact - 1e-9, "PLD ε " + pld + " below the exact " + exact + ": not pessimistic");
        assertEquals(exact, pld, 0.005 * exact + 1e-3, "PLD ε should be tight");
    }

    @Test
    void differentGaussiansComposeLikeTheirEquivalentGaussian() {
        // N(·, 2²) then N(·, 3²) on the same data = one Gaussian with σ = (2⁻² + 3⁻²)^(−1/2).
        PldAccountant a = new PldAccountant();
        a.compose(new DpEvent.Gaussian(2.0));
        a.compose(new DpEvent.Gaussian(3.0));
        double mu = Math.sqrt(1 / 4.0 + 1 / 9.0);
        double exact = GaussianOracle.epsilonFor(e -> GaussianOracle.gaussianDelta(mu, e), 1e-5);
        double eps = a.epsilon(1e-5);
        assertTrue(eps >= exact - 1e-9);
        assertEquals(exact, eps, 0.005 * exact);
    }

    @ParameterizedTest(name = "q={0} σ={1} δ={2}")
    @CsvSource({"0.01, 1.0, 1e-5", "0.1, 0.8, 1e-5", "0.5, 2.0, 1e-3", "0.05, 4.0, 1e-6"})
    void oneSampledStepMatchesTheIntegratedHockeyStickDivergence(double q, double sigma, double delta) {
        GaussianOracle.SampledStep step = new GaussianOracle.SampledStep(q, sigma);
        double exact = GaussianOracle.epsilonFor(step::delta, delta);
        double pld = run(q, sigma, 1).epsilon(delta);
        assertTrue(pld >= exact - 1e-6, "PLD ε " + pld + " below the exact " + exact + ": not pessimistic");
        assertEquals(exact, pld, 0.01 * exact + 2e-4);
    }

    @Test
    void pairedSelfCompositionEqualsTwoSeparateOnes() {
        SampledGaussianPld single = new SampledGaussianPld(0.02, 1.2, 1e-4);
        PldPmf r = single.remove();
        PldPmf a = single.add();
        PldPmf[] both = PldPmf.selfComposeBoth(r, a, 3000);
        PldPmf r1 = r.selfCompose(3000);
        PldPmf a1 = a.selfCompose(3000);
        for (double d : new double[] {1e-3, 1e-5, 1e-7}) {
            assertEquals(r1.epsilonForDelta(d), both[0].epsilonForDelta(d), 1e-6);
            assertEquals(a1.epsilonForDelta(d), both[1].epsilonForDelta(d), 1e-6);
        }
    }

    @Test
    void distributionsHoldAllTheMass() {
        SampledGaussianPld single = new SampledGaussianPld(0.01, 1.0, 1e-4);
        for (PldPmf p :
                new PldPmf[] {single.remove(), single.add(), single.remove().selfCompose(5000)}) {
            double total = p.infinityMass;
            for (double x : p.probs) total += x;
            // Connect-the-dots clamps round-off negatives to 0, so the mass may exceed 1 by a hair (pessimistic).
            assertEquals(1.0, total, 1e-7);
        }
    }

    @Test
    void epsilonAndDeltaAreConsistent() {
        PldAccountant a = run(0.01, 1.0, 2000);
        for (double d : new double[] {1e-3, 1e-5, 1e-8}) {
            double eps = a.epsilon(d);
            assertTrue(a.delta(eps) <= d * (1 + 1e-9), "δ(ε(δ)) must not exceed δ");
            assertTrue(a.delta(eps - 1e-3) > d, "ε(δ) should be the smallest such ε");
        }
    }

    @Test
    void equalToSelfComposedWhenComposedStepByStep() {
        PldAccountant stepwise = new PldAccountant();
        for (int i = 0; i < 1000; i++) stepwise.compose(DpEvent.dpSgdStep(0.01, 1.0));
        assertEquals(1, stepwise.ledger().size());
        assertEquals(run(0.01, 1.0, 1000).epsilon(1e-5), stepwise.epsilon(1e-5), 0);
    }

    @Test
    void mixedStepsComposeByConvolution() {
        // 300 steps at σ=1 then 300 at σ=2: between the all-σ=2 and all-σ=1 runs, and matches RDP's order of magnitude.
        PldAccountant mixed = new PldAccountant();
        mixed.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.01, 1.0), 300));
        mixed.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.01, 2.0), 300));
        double eps = mixed.epsilon(1e-5);
        assertTrue(eps > run(0.01, 2.0, 600).epsilon(1e-5));
        assertTrue(eps < run(0.01, 1.0, 600).epsilon(1e-5));
        assertTrue(eps > run(0.01, 1.0, 300).epsilon(1e-5));
    }

    @Test
    void nothingComposedIsZero() {
        assertEquals(0, new PldAccountant().epsilon(1e-5));
    }

    @Test
    void tooLittleNoiseForTheGridIsRefusedNotAnOutOfMemoryError() {
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> run(0.01, 0.01, 1000).epsilon(1e-5));
        assertTrue(e.getMessage().contains("rdp accountant"), e.getMessage());
        // A coarser grid handles it.
        PldAccountant coarse = new PldAccountant(1e-2);
        coarse.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.01, 0.05), 1000));
        assertTrue(coarse.epsilon(1e-5) > 0);
    }

    @Test
    void rejectsBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new PldAccountant(0));
        assertThrows(IllegalArgumentException.class, () -> run(0.01, 1, 10).epsilon(0));
        assertThrows(IllegalArgumentException.class, () -> run(0.01, 1, 10).epsilon(1.5));
    }

    static Stream<Arguments> randomSettings() {
        SplittableRandom rnd = new SplittableRandom(7);
        return IntStream.range(0, 4)
                .mapToObj(i -> Arguments.of(
                        Math.exp(Math.log(0.002) + rnd.nextDouble() * Math.log(100)), // q in [0.002, 0.2]
                        0.7 + rnd.nextDouble() * 4, // σ
                        (long) Math.exp(rnd.nextDouble() * Math.log(5000)) + 1, // steps
                        Math.pow(10, -4 - 3 * rnd.nextDouble()))); // δ
    }

    @ParameterizedTest(name = "q={0} σ={1} T={2} δ={3}")
    @MethodSource("randomSettings")
    void monotoneAndNoLooserThanRdp(double q, double sigma, long steps, double delta) {
        double eps = run(q, sigma, steps).epsilon(delta);
        double rdp = Accountants.epsilon(q, sigma, steps, delta, AccountantKind.RDP);
        assertTrue(eps <= rdp * 1.01 + 1e-3, "PLD " + eps + " should not exceed RDP " + rdp);
        assertTrue(run(q, sigma * 1.2, steps).epsilon(delta) <= eps);
        assertTrue(run(q, sigma, steps * 2).epsilon(delta) >= eps);
        assertTrue(run(Math.min(1, q * 1.5), sigma, steps).epsilon(delta) >= eps);
    }

    @Test
    void namesItself() {
        assertEquals("pld", new PldAccountant().name());
        assertEquals(List.of("rdp", "pld"), Accountants.names());
    }

    @org.junit.jupiter.api.Test
    void aSigmaTooSmallForTheGridIsRefusedNotAnOverflow() {
        PldAccountant a = new PldAccountant();
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.1, 1e-9), 100));
        IllegalArgumentException e =
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> a.epsilon(1e-5));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("privacy.accountant: rdp"), e.getMessage());
    }
}
