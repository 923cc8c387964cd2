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
import org.junit.jupiter.params.provider.MethodSource;

class RdpAccountantTest {

    private static RdpAccountant run(double q, double sigma, long steps) {
        RdpAccountant a = new RdpAccountant();
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(q, sigma), steps));
        return a;
    }

    /** The classic conversion ε = min_α rdp(α) − log δ/(α−1) (Mironov 2017), used by the published numbers. */
    private static double classicEpsilon(RdpAccountant a, double delta) {
        double[] rdp = a.totalRdp();
        List<Double> orders = a.orders();
        double best = Double.POSITIVE_INFINITY;
        for (int k = 0; k < rdp.length; k++) best = Math.min(best, rdp[k] - Math.log(delta) / (orders.get(k) - 1));
        return best;
    }

    @Test
    void abadiMnistSetting() {
        // Abadi et al. 2016 / TF-Privacy README: q = 0.01, σ = 4, 10,000 steps, δ = 1e-5 → ε ≈ 1.26 with
        // the classic RDP conversion. dp_accounting's tighter conversion gives 1.0354900660362436 (order 17).
        RdpAccountant a = run(0.01, 4.0, 10_000);
        assertEquals(1.26, classicEpsilon(a, 1e-5), 0.005);
        RdpConversion.EpsilonAndOrder e = a.epsilonAndOrder(1e-5);
        assertEquals(1.0354900660362436, e.epsilon(), 1e-9);
        assertEquals(17.0, e.order());
    }

    @Test
    void tensorflowPrivacyMnistTutorial() {
        // TF-Privacy tutorial: N = 60,000, batch 256, σ = 1.1, 60 epochs (14,063 steps), δ = 1e-5 → ε = 3.01
        // (classic conversion). With the tighter conversion dp_accounting reports 2.596655529521983 at the
        // fractional order 8.1; ours is exact there and must be no higher.
        RdpAccountant a = run(256 / 60000.0, 1.1, 14_063);
        assertEquals(3.01, classicEpsilon(a, 1e-5), 0.005);
        double eps = a.epsilon(1e-5);
        assertTrue(eps <= 2.596655529521983 + 1e-12);
        assertEquals(2.596655529521983, eps, 0.01 * eps);
    }

    @Test
    void fullBatchGaussianHasTheClosedFormRdp() {
        // q = 1: rdp(α) = T·α/(2σ²); ε = min over the grid of the conversion, computed here by hand.
        RdpAccountant a = new RdpAccountant();
        a.compose(new DpEvent.SelfComposed(new DpEvent.Gaussian(3.0), 50));
        double best = Double.POSITIVE_INFINITY;
        for (double alpha : RdpOrders.defaults()) {
            double r = 50 * alpha / 18.0;
            if (alpha > 1.01)
                best = Math.min(best, r + Math.log1p(-1 / alpha) - (Math.log(1e-6) + Math.log(alpha)) / (alpha - 1));
        }
        assertEquals(best, a.epsilon(1e-6), 1e-12);
        RdpAccountant sampledAtOne = run(1.0, 3.0, 50);
        assertEquals(a.epsilon(1e-6), sampledAtOne.epsilon(1e-6), 0);
    }

    @Test
    void compositionAddsUp() {
        RdpAccountant once = run(0.02, 1.3, 700);
        RdpAccountant split = new RdpAccountant();
        for (int i = 0; i < 7; i++) split.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.02, 1.3), 100));
        assertEquals(once.epsilon(1e-5), split.epsilon(1e-5), 1e-12);

        RdpAccountant mixed = new RdpAccountant();
        mixed.compose(new DpEvent.Composed(List.of(DpEvent.dpSgdStep(0.02, 1.3), DpEvent.dpSgdStep(0.05, 2.0))));
        double[] expected = new double[RdpOrders.defaults().size()];
        for (int k = 0; k < expected.length; k++) {
            double alpha = RdpOrders.defaults().get(k);
            expected[k] = RdpSampledGaussian.rdp(0.02, 1.3, alpha) + RdpSampledGaussian.rdp(0.05, 2.0, alpha);
        }
        double[] got = mixed.totalRdp();
        for (int k = 0; k < expected.length; k++) assertEquals(expected[k], got[k], 1e-12 * expected[k]);
    }

    @Test
    void nothingComposedIsZero() {
        assertEquals(0, new RdpAccountant().epsilon(1e-5));
        assertEquals(0, run(0.1, 1, 0).epsilon(1e-5));
    }

    @Test
    void customGridIsUsedAndValidated() {
        RdpAccountant coarse = new RdpAccountant(List.of(2.0, 4.0, 8.0, 16.0, 32.0));
        coarse.compose(DpEvent.dpSgdStep(0.01, 1.0));
        RdpAccountant fine = new RdpAccountant();
        fine.compose(DpEvent.dpSgdStep(0.01, 1.0));
        assertTrue(fine.epsilon(1e-5) <= coarse.epsilon(1e-5));
        assertTrue(List.of(2.0, 4.0, 8.0, 16.0, 32.0)
                .contains(coarse.epsilonAndOrder(1e-5).order()));
        assertThrows(IllegalArgumentException.class, () -> new RdpAccountant(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new RdpAccountant(List.of(0.5, 2.0)));
        assertThrows(IllegalArgumentException.class, () -> new RdpAccountant(List.of(2.0, Double.POSITIVE_INFINITY)));
    }

    @Test
    void defaultGridIsDpAccountingsList() {
        List<Double> g = RdpOrders.defaults();
        assertEquals(156, g.size());
        assertEquals(1.1, g.get(0));
        assertEquals(10.9, g.get(98), 1e-12);
        assertEquals(11.0, g.get(99));
        assertEquals(63.0, g.get(151));
        assertEquals(List.of(128.0, 256.0, 512.0, 1024.0), g.subList(152, 156));
    }

    @Test
    void rejectsBadDelta() {
        RdpAccountant a = run(0.01, 1, 10);
        assertThrows(IllegalArgumentException.class, () -> a.epsilon(0));
        assertThrows(IllegalArgumentException.class, () -> a.epsilon(1));
        assertThrows(IllegalArgumentException.class, () -> a.epsilon(Double.NaN));
    }

    static Stream<Arguments> randomSettings() {
        SplittableRandom rnd = new SplittableRandom(42);
        return IntStream.range(0, 12)
                .mapToObj(i -> Arguments.of(
                        Math.exp(Math.log(0.001) + rnd.nextDouble() * Math.log(500)), // q in [0.001, 0.5]
                        0.6 + rnd.nextDouble() * 6, // σ
                        (long) Math.exp(rnd.nextDouble() * Math.log(50_000)) + 1, // steps
                        Math.pow(10, -4 - 4 * rnd.nextDouble()))); // δ
    }

    @ParameterizedTest(name = "q={0} σ={1} T={2} δ={3}")
    @MethodSource("randomSettings")
    void epsilonIsMonotoneInSigmaStepsAndSamplingRate(double q, double sigma, long steps, double delta) {
        double eps = run(q, sigma, steps).epsilon(delta);
        assertTrue(run(q, sigma * 1.1, steps).epsilon(delta) <= eps, "more noise must not cost more ε");
        assertTrue(run(q, sigma, steps * 2).epsilon(delta) >= eps, "more steps must not cost less ε");
        assertTrue(
                run(Math.min(1, q * 1.5), sigma, steps).epsilon(delta) >= eps,
                "a larger sampling rate must not cost less ε");
        assertTrue(run(q, sigma, steps).epsilon(delta * 10) <= eps, "a larger δ must not cost more ε");
    }
}
