package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.junit.jupiter.api.Test;

/**
 * The trainer's choice between a host sum across processes and sharing a device-summed gradient
 * ({@link GradientScope}): exactly one cross-process sum per step, never both, and no device-summed
 * model without a reduction.
 */
class GradientScopeTest {
    private static final Shape SHAPE = new Shape(1, 4, 4);
    private static final InMemoryDataset TRAIN = SyntheticData.blobs(300, SHAPE, 3, 1.0, 0.3, 2);
    private static final ExperimentConfig CONFIG =
            ConfigLoader.applyOverrides(ConfigLoader.parse("""
                    seed: 9
                    model: {name: small-cnn}
                    data: {format: synthetic, loader_threads: 1}
                    privacy: {clip_norm: 1.0, noise_multiplier: 2.0, delta: 1e-4, noise: fast-insecure}
                    training: {batch_size: 30, steps: 12, micro_batch_size: 8}
                    optimizer: {name: sgd, lr: 0.3, momentum: 0.5}
                    """, "scope.yaml"), Map.of());

    /** Counts which path the trainer took and records what it was handed. */
    private static final class RecordingReduction implements GradientReduction {
        int sums;
        int shares;
        float[] lastShared;

        @Override
        public boolean drawsNoise() {
            return true;
        }

        @Override
        public void sumAcrossProcesses(double[] sum) {
            sums++;
        }

        @Override
        public void shareNoisySum(float[] sum) {
            shares++;
            lastShared = sum.clone();
        }
    }

    /** The reference model, reporting a device-summed gradient (as the IPU backend does across poprun instances). */
    private static final class DeviceSummed extends ForwardingTrainableModel {
        private final float[][] lastDrain = new float[1][];

        DeviceSummed(LogisticRegressionModel inner) {
            super(inner);
        }

        float[][] lastDrain() {
            return lastDrain;
        }

        @Override
        public GradientScope gradientScope() {
            return GradientScope.RUN;
        }

        @Override
        public void drainGradientSum(float[] into) {
            super.drainGradientSum(into);
            lastDrain[0] = into.clone();
        }
    }

    private static float[] train(TrainableModel model, GradientReduction reduction) {
        try (DpSgdTrainer t = DpSgdTrainer.builder(CONFIG, TRAIN, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .reduction(reduction)
                .log(s -> {})
                .build()) {
            while (t.canStep()) t.step();
            return t.parameters();
        }
    }

    @Test
    void aDeviceSummedGradientIsSharedOncePerStepAndNeverSummedAgain() {
        RecordingReduction run = new RecordingReduction();
        float[] viaShare = train(new DeviceSummed(LogisticRegressionModel.zeros(SHAPE, 3)), run);
        assertEquals(0, run.sums, "the host summed a gradient the device had already summed");
        assertEquals(12, run.shares);

        RecordingReduction process = new RecordingReduction();
        // Drained through the float path as DeviceSummed is (ForwardingTrainableModel), so both see the same sums.
        float[] viaSum = train(new ForwardingTrainableModel(LogisticRegressionModel.zeros(SHAPE, 3)), process);
        assertEquals(12, process.sums);
        assertEquals(12, process.shares, "rank 0's noisy sum is broadcast after the float64 sum");
        // One process: both paths see the same noisy sum, so the same update (same seeds, same batches).
        assertArrayEquals(viaSum, viaShare);
        assertTrue(java.util.stream.IntStream.range(0, viaSum.length).anyMatch(i -> viaSum[i] != 0));
    }

    @Test
    void theSharedSumIsTheDrainedSumPlusTheNoiseOfTheDrawingProcess() {
        RecordingReduction run = new RecordingReduction();
        DeviceSummed model = new DeviceSummed(LogisticRegressionModel.zeros(SHAPE, 3));
        train(model, run);
        // shared − drained is the one noise draw: N(0, (σC)²) per coordinate, σC = 2, P = 51 coordinates.
        double sq = 0;
        int p = run.lastShared.length;
        for (int i = 0; i < p; i++) {
            double d = (double) run.lastShared[i] - model.lastDrain()[0][i];
            sq += d * d;
        }
        double perCoordinate = Math.sqrt(sq / p);
        // χ²(51)/51 lies in [0.55, 1.55] with probability > 0.999 (seeded anyway).
        assertTrue(
                perCoordinate > 2 * Math.sqrt(0.55) && perCoordinate < 2 * Math.sqrt(1.55),
                "noise std " + perCoordinate);
    }

    @Test
    void aDeviceSummedModelWithoutACrossProcessReductionIsRefused() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> DpSgdTrainer.builder(CONFIG, TRAIN, new DeviceSummed(LogisticRegressionModel.zeros(SHAPE, 3)))
                        .accountants(UnamplifiedRdpAccountant::new)
                        .log(s -> {})
                        .build());
        assertTrue(e.getMessage().contains("no cross-process reduction"), e.getMessage());
    }
}
