package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.optim.Optimizers;
import org.dpsgd.optim.TrainableMask;
import org.junit.jupiter.api.Test;

class DpSgdStepTest {
    private static NoiseSource seeded() {
        return NoiseSources.create(NoiseMode.FAST_INSECURE, 11, w -> {});
    }

    @Test
    void privateUpdateAddsSigmaCNoiseAndDividesByTheExpectedBatchSize() {
        int n = 1000;
        double[] sum = new double[n];
        for (int i = 0; i < n; i++) sum[i] = Math.sin(i);
        float[] params = new float[n];
        double c = 0.5, sigma = 2.0, b = 64, lr = 0.1;
        new DpSgdStep(seeded(), Optimizers.create(OptimizerConfig.sgd(lr), TrainableMask.all(n)), TrainableMask.all(n))
                .privateUpdate(params, sum.clone(), c, sigma, b, lr);
        // reference: the same seeded noise drawn directly
        double[] noisy = sum.clone();
        seeded().addGaussian(noisy, sigma * c);
        for (int i = 0; i < n; i++) assertEquals(-lr * noisy[i] / b, params[i], 1e-7, "coordinate " + i);
    }

    /**
     * The noise goes on the float64 sum and the result is rounded once: the noisy sum is
     * round32(sum + noise) bit for bit, with the noise drawn independently by a second source of
     * the same seed; rounding the sum first (the order before) gives other floats here.
     */
    @Test
    void theNoiseIsAddedToTheFloat64SumAndRoundedOnceAfterIt() {
        int n = 4000;
        double[] sum = new double[n];
        for (int i = 0; i < n; i++) sum[i] = 1000 * Math.sin(i) * (1 + 0x1p-30); // not floats
        double std = 1e-3; // small beside the sum, so the float32 rounding of the sum shows
        double[] unchanged = sum.clone();
        DpSgdStep step = new DpSgdStep(
                seeded(), Optimizers.create(OptimizerConfig.sgd(1), TrainableMask.all(n)), TrainableMask.all(n));
        float[] rounded = new float[n];
        step.addNoise(sum, std, rounded);
        assertArrayEquals(unchanged, sum, "the float64 sum itself is only read");

        NoiseSource reference = seeded();
        double[] noise = new double[n];
        reference.addGaussian(noise, std); // 0 + std·z = std·z exactly
        int differsFromRoundingFirst = 0;
        for (int i = 0; i < n; i++) {
            assertEquals((float) (sum[i] + noise[i]), rounded[i], 0f, "coordinate " + i);
            if ((float) ((float) sum[i] + noise[i]) != rounded[i]) differsFromRoundingFirst++;
        }
        assertTrue(differsFromRoundingFirst > 0, "the test cannot tell the two orders apart");
    }

    @Test
    void theRealisedBatchSizeIsNotAnInputOfThePrivateUpdate() throws Exception {
        // The signature itself is the guarantee: no parameter can carry L.
        var m = DpSgdStep.class.getMethod(
                "privateUpdate", float[].class, double[].class, double.class, double.class, double.class, double.class);
        assertEquals(6, m.getParameterCount());
        float[] a = new float[10], b = new float[10];
        double[] sum = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        new DpSgdStep(seeded(), Optimizers.create(OptimizerConfig.sgd(1), TrainableMask.all(10)), TrainableMask.all(10))
                .privateUpdate(a, sum.clone(), 1, 1, 32, 1);
        new DpSgdStep(seeded(), Optimizers.create(OptimizerConfig.sgd(1), TrainableMask.all(10)), TrainableMask.all(10))
                .privateUpdate(b, sum.clone(), 1, 1, 32, 1);
        assertArrayEquals(a, b);
    }

    @Test
    void frozenCoordinatesGetNoNoiseAndNoUpdate() {
        var net = new org.dpsgd.model.Network(
                "t",
                new org.dpsgd.model.Shape(2, 1, 1),
                2,
                java.util.List.of(
                        new org.dpsgd.model.Layer.Linear("a", 2, 2, true),
                        new org.dpsgd.model.Layer.Linear("b", 2, 2, true)));
        TrainableMask mask = TrainableMask.of(net, java.util.List.of("a."));
        float[] params = new float[12];
        double[] sum = new double[12];
        java.util.Arrays.fill(sum, 5.0);
        new DpSgdStep(seeded(), Optimizers.create(OptimizerConfig.sgd(1), mask), mask)
                .privateUpdate(params, sum, 1, 3, 4, 1);
        for (int i = 0; i < 6; i++) {
            assertEquals(0f, params[i]);
            assertEquals(0.0, sum[i], "frozen gradient coordinates are zeroed, not noised");
        }
        for (int i = 6; i < 12; i++) assertFalse(params[i] == 0f);
    }

    @Test
    void nonPrivateUpdateAveragesOverTheRealisedBatchAndSkipsEmptyOnes() {
        float[] params = new float[2];
        DpSgdStep s = new DpSgdStep(
                seeded(), Optimizers.create(OptimizerConfig.sgd(1), TrainableMask.all(2)), TrainableMask.all(2));
        assertEquals(true, s.nonPrivateUpdate(params, new float[] {4, 8}, 4, 0.5));
        assertArrayEquals(new float[] {-0.5f, -1f}, params);
        assertEquals(false, s.nonPrivateUpdate(params, new float[2], 0, 0.5));
        assertArrayEquals(new float[] {-0.5f, -1f}, params);
        assertThrows(IllegalArgumentException.class, () -> s.privateUpdate(params, new double[2], 1, 0, 4, 1));
    }
}
