package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.config.OptimizerKind;
import org.dpsgd.optim.Sgd;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.train.DpMechanism;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CanaryObserverTest {

    private static OptimizerConfig sgd(double lr, double momentum, boolean nesterov, double wd) {
        return new OptimizerConfig(OptimizerKind.SGD, lr, momentum, nesterov, wd, null, null, null, null, null, null);
    }

    /** The library's own SGD takes known noisy sums; the observer must read them back from the parameters alone. */
    @ParameterizedTest
    @CsvSource({"0, false, 0", "0.9, false, 0", "0.9, true, 0", "0.5, false, 0.01", "0.9, true, 0.005"})
    void recoversTheReleasedSumThroughTheOptimizer(double momentum, boolean nesterov, double wd) {
        int n = 50;
        double c = 0.1, qN = 64;
        DpMechanism mech = new DpMechanism(0.05, 1.5, ClipPolicy.flat(c), 1280);
        Sgd opt = new Sgd(momentum, nesterov, wd, TrainableMask.all(n));
        int[] coords = {0, 7, 21, 49};
        CanaryObserver obs = new CanaryObserver(coords, mech, sgd(0.5, momentum, nesterov, wd), CanaryScore.SUM);
        SplittableRandom rng = new SplittableRandom(42);
        float[] params = new float[n];
        for (int i = 0; i < n; i++) params[i] = (float) rng.nextDouble(-0.5, 0.5);
        double[] expectedSums = new double[coords.length];
        for (int t = 0; t < 40; t++) {
            double lr = 0.5 * (1 + t % 3);
            float[] noisySum = new float[n];
            for (int i = 0; i < n; i++)
                noisySum[i] = (float) (rng.nextGaussian() * 1.5 * c + (rng.nextDouble() < 0.05 ? c : 0));
            float[] grad = new float[n];
            for (int i = 0; i < n; i++) grad[i] = (float) (noisySum[i] / qN);
            float[] before = params.clone();
            opt.step(params, grad, lr);
            obs.observe(before, params, lr);
            double[] released = obs.lastReleased();
            for (int k = 0; k < coords.length; k++) {
                double truth = grad[coords[k]] * qN / c;
                assertEquals(truth, released[k], 2e-3 * (1 + Math.abs(truth)), "step " + t + " canary " + k);
                expectedSums[k] += released[k];
            }
        }
        double[] scores = obs.scores();
        for (int k = 0; k < coords.length; k++) assertEquals(expectedSums[k], scores[k], 1e-9);
    }

    @Test
    void likelihoodRatioTermIsTheLogOfTheDensityRatio() {
        double q = 0.1, sigma = 1.3, g = 0.8;
        // IN: (1−q)·N(g; 0, σ²) + q·N(g; 1, σ²); OUT: N(g; 0, σ²).
        double in = (1 - q) * Math.exp(-g * g / (2 * sigma * sigma))
                + q * Math.exp(-(g - 1) * (g - 1) / (2 * sigma * sigma));
        double out = Math.exp(-g * g / (2 * sigma * sigma));
        assertEquals(Math.log(in / out), CanaryScore.LIKELIHOOD_RATIO.term(g, q, sigma), 1e-12);
    }

    @Test
    void refusesAdamAndZeroLearningRate() {
        DpMechanism mech = new DpMechanism(0.05, 1.5, ClipPolicy.flat(1), 100);
        OptimizerConfig adam =
                new OptimizerConfig(OptimizerKind.ADAM, 0.1, null, null, null, null, null, null, null, null, null);
        assertThrows(
                IllegalArgumentException.class, () -> new CanaryObserver(new int[] {0}, mech, adam, CanaryScore.SUM));
        CanaryObserver o = new CanaryObserver(new int[] {0}, mech, sgd(0.1, 0, false, 0), CanaryScore.SUM);
        assertThrows(IllegalArgumentException.class, () -> o.observe(new float[1], new float[1], 0));
    }
}
