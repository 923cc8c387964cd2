package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dpsgd.UserError;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.GaussianDraw;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.sampling.RandomSource;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.junit.jupiter.api.Test;

/**
 * The trainer adds the noise to the float64 clipped sum as the model drained it and rounds to float
 * only after the noise (docs/core.md, "Float margin", item 5 (b)), and it gives the model a
 * data-independent bound on a step's examples, refusing a draw above it (item 5 (a), (c)).
 */
class NoiseAfterFloat64SumTest {
    private static final Shape SHAPE = new Shape(1, 4, 4);

    private static ExperimentConfig config(int batch, int steps, double clip, double sigma) {
        return ConfigLoader.applyOverrides(
                ConfigLoader.parse("""
                seed: 21
                model: {name: small-cnn}
                data: {format: synthetic, loader_threads: 1}
                privacy: {clip_norm: %s, noise_multiplier: %s, delta: 1e-4, noise: fast-insecure}
                training: {batch_size: %d, steps: %d, micro_batch_size: 64}
                optimizer: {name: sgd, lr: 0.3}
                """.formatted(clip, sigma, batch, steps), "fp64.yaml"), Map.of());
    }

    /** What the noise is added to (a copy per draw), then the noise itself, from the real source. */
    private static final class Recording implements NoiseSource {
        final NoiseSource inner;
        final List<double[]> before = new ArrayList<>();

        Recording(NoiseSource inner) {
            this.inner = inner;
        }

        @Override
        public void addGaussian(float[] v, int from, int to, double std) {
            throw new AssertionError("noise added to a float (already rounded) sum");
        }

        @Override
        public void addGaussian(double[] v, int from, int to, double std) {
            before.add(Arrays.copyOfRange(v, from, to));
            inner.addGaussian(v, from, to, std);
        }

        @Override
        public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
            before.add(Arrays.copyOfRange(sum, from, to));
            inner.addGaussianRounded(sum, out, from, to, std);
        }

        /** The trainer's path: records each piece before its noise, one vector per draw. */
        @Override
        public GaussianDraw openDraw(int n, double std) {
            GaussianDraw d = inner.openDraw(n, std);
            double[] seen = new double[n];
            return new GaussianDraw() {
                @Override
                public int length() {
                    return n;
                }

                @Override
                public void addTo(double[] v, int at, int offset, int count) {
                    System.arraycopy(v, at, seen, offset, count);
                    d.addTo(v, at, offset, count);
                    if (offset + count == n) before.add(seen);
                }
            };
        }

        @Override
        public boolean isSecure() {
            return inner.isSecure();
        }

        @Override
        public Long exportState() {
            return inner.exportState();
        }

        @Override
        public void restoreState(long calls) {
            inner.restoreState(calls);
        }

        @Override
        public String mode() {
            return inner.mode();
        }
    }

    /** Records the float64 sums the trainer drains and the step bound it is given. */
    private static final class Drains extends ForwardingTrainableModel {
        final LogisticRegressionModel base;
        final List<double[]> drained = new ArrayList<>();
        int bound;

        Drains(LogisticRegressionModel base) {
            super(base);
            this.base = base;
        }

        @Override
        public void drainGradientSum(double[] into) {
            base.drainGradientSum(into);
            drained.add(into.clone());
        }

        @Override
        public void boundStepExamples(int maxExamples) {
            bound = maxExamples;
        }
    }

    /** Records what rank 0 shares: the noisy sum after its one rounding. */
    private static final class Shared implements GradientReduction {
        final List<float[]> shared = new ArrayList<>();

        @Override
        public boolean drawsNoise() {
            return true;
        }

        @Override
        public void sumAcrossProcesses(double[] sum) {}

        @Override
        public void shareNoisySum(float[] sum) {
            shared.add(sum.clone());
        }
    }

    private static NoiseSource seededNoise(ExperimentConfig c) {
        return NoiseSources.create(NoiseMode.FAST_INSECURE, c.seed(), w -> {});
    }

    /**
     * Every step's noisy sum is round32(drained float64 sum + noise) bit for bit, the noise drawn
     * again by an independent source of the same seed; rounding the sum first gives other floats.
     */
    @Test
    void theNoisyUpdateIsTheFloat64SumPlusTheNoiseRoundedOnce() {
        ExperimentConfig c = config(40, 5, 0.5, 0.01);
        InMemoryDataset train = SyntheticData.blobs(300, SHAPE, 3, 1.0, 0.3, 4);
        Drains model = new Drains(LogisticRegressionModel.zeros(SHAPE, 3));
        Shared reduction = new Shared();
        double std;
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .reduction(reduction)
                .log(s -> {})
                .build()) {
            while (t.canStep()) t.step();
            std = t.mechanism().noiseStd();
        }
        NoiseSource reference = seededNoise(c);
        int differs = 0;
        assertEquals(5, reduction.shared.size());
        for (int k = 0; k < 5; k++) {
            double[] sum = model.drained.get(k);
            double[] noise = new double[sum.length];
            reference.addGaussian(noise, std); // call k of the same seed: 0 + std·z = std·z exactly
            float[] expected = new float[sum.length];
            for (int i = 0; i < sum.length; i++) {
                expected[i] = (float) (sum[i] + noise[i]);
                if ((float) ((float) sum[i] + noise[i]) != expected[i]) differs++;
            }
            assertArrayEquals(expected, reduction.shared.get(k), "step " + k);
        }
        assertTrue(differs > 0, "rounding before the noise would give the same floats here: the test cannot fail");
    }

    /**
     * Neighbouring datasets at B = 4096: 4096 identical examples whose clipped gradient v rounds
     * badly in float32 (C chosen so that round32(4096·v) − round32(4095·v) is longer than C), and the
     * same without one of them. What the noise is added to differs by C up to float64 accumulation
     * (≤ 2^−28·C here); a float32 drain before the noise would differ by more than C(1 + 2^−20).
     */
    @Test
    void neighbouringSumsDifferByAtMostCBeforeTheNoiseAtLargeBatch() {
        int b = 4096;
        // g = (p − y) ⊗ x and p − y for one 1x1x1 input x = 3, two classes, zero weights: (−1.5, 1.5, −0.5, 0.5).
        double[] g = {-1.5, 1.5, -0.5, 0.5};
        double gNorm = Math.sqrt(5);
        double clip = 0;
        double worst = 0;
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int k = 0; k < 20_000; k++) {
            double cand = 0.5 + r.nextDouble();
            double f = cand / gNorm, sq = 0;
            for (double gi : g) {
                double d = (float) (b * (f * gi)) - (double) (float) ((b - 1) * (f * gi));
                sq += d * d;
            }
            double excess = Math.sqrt(sq) / cand - 1;
            if (excess > worst) {
                worst = excess;
                clip = cand;
            }
        }
        assertTrue(worst > 0x1p-14, "no float32-adversarial C found: " + worst);

        double[] withAll = beforeNoise(b, clip);
        double[] without = beforeNoise(b - 1, clip);
        double sq = 0, sq32 = 0;
        for (int i = 0; i < withAll.length; i++) {
            double d = withAll[i] - without[i];
            sq += d * d;
            double d32 = (float) withAll[i] - (double) (float) without[i];
            sq32 += d32 * d32;
        }
        assertTrue(Math.sqrt(sq) <= clip * (1 + 0x1p-28), "float64 sums differ by " + Math.sqrt(sq) / clip + " C");
        // The precondition on the actual sums: rounded to float32 first, they would differ by more than C.
        assertTrue(Math.sqrt(sq32) > clip * (1 + 0x1p-20), "float32 sums differ by only " + Math.sqrt(sq32) / clip);
    }

    /** One step over n identical examples, all sampled (q = 1): the vector the noise is added to. */
    private static double[] beforeNoise(int n, double clip) {
        Shape one = new Shape(1, 1, 1);
        float[] x = new float[n];
        Arrays.fill(x, 3f);
        InMemoryDataset data = new InMemoryDataset(one, 2, x, new int[n], "identical(" + n + ")");
        Recording noise = new Recording(seededNoise(config(n, 1, clip, 1.0)));
        try (DpSgdTrainer t = DpSgdTrainer.builder(config(n, 1, clip, 1.0), data, LogisticRegressionModel.zeros(one, 2))
                .accountants(UnamplifiedRdpAccountant::new)
                .noise(noise)
                .log(s -> {})
                .build()) {
            t.step();
        }
        assertEquals(1, noise.before.size());
        return noise.before.get(0);
    }

    /** The model is told Poisson's tail bound for the run's population (data-independent), or maxCalls·S. */
    @Test
    void theModelIsToldTheDataIndependentStepBound() {
        ExperimentConfig c = config(40, 2, 1.0, 1.0);
        InMemoryDataset train = SyntheticData.blobs(300, SHAPE, 3, 1.0, 0.3, 4);
        Drains model = new Drains(LogisticRegressionModel.zeros(SHAPE, 3));
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {})
                .build()) {
            assertEquals(StepBound.poisson(300, 40.0 / 300), model.bound);
            assertEquals(model.bound, t.stepCap());
            assertTrue(model.bound > 40 && model.bound < 300, "bound " + model.bound);
        }
        Drains fixed = new Drains(LogisticRegressionModel.zeros(SHAPE, 3));
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, fixed)
                .accountants(UnamplifiedRdpAccountant::new)
                .maxCalls(1)
                .log(s -> {})
                .build()) {
            assertEquals(64, fixed.bound, "one call of 64 slots holds at most 64 examples");
        }
        // A population of 10,000 at the same q: the bound follows the population, never the draw.
        Drains large = new Drains(LogisticRegressionModel.zeros(SHAPE, 3));
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, large)
                .accountants(UnamplifiedRdpAccountant::new)
                .populationSize(10_000)
                .log(s -> {})
                .build()) {
            assertEquals(StepBound.poisson(10_000, 40.0 / 10_000), large.bound);
        }
    }

    /** A draw above the bound (here forced: every uniform is 0, so every example is sampled) is refused, not run. */
    @Test
    void aDrawAboveTheBoundIsRefused() {
        ExperimentConfig c = config(40, 2, 1.0, 1.0);
        InMemoryDataset train = SyntheticData.blobs(300, SHAPE, 3, 1.0, 0.3, 4);
        Drains model = new Drains(LogisticRegressionModel.zeros(SHAPE, 3));
        RandomSource zeros = new RandomSource() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public boolean isSecure() {
                return false;
            }

            @Override
            public byte[] exportState() {
                return new byte[0];
            }

            @Override
            public void restoreState(byte[] state) {}
        };
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .sampling(zeros)
                .log(s -> {})
                .build()) {
            assertEquals(0, t.stepsCharged());
            IllegalStateException e = assertThrows(IllegalStateException.class, t::step);
            assertTrue(e.getMessage().contains("drew 300 examples, above the bound"), e.getMessage());
            assertTrue(model.drained.isEmpty(), "nothing was computed from the refused draw");
            // Write-ahead: the refused step was charged before the refusal, and its ε stays spent.
            assertEquals(1, t.stepsCharged());
            assertTrue(t.epsilon() > 0 && Double.isFinite(t.epsilon()), "ε " + t.epsilon());
        }
    }

    /**
     * With a fixed call count below the tail bound, a draw that does not fit maxCalls gets the
     * planner's one-line UserError (exit 2, "raise maxCalls"), not the tail bound's refusal; and the
     * trainer warns at construction that such draws are not negligible.
     */
    @Test
    void aDrawAboveMaxCallsGetsThePlannersUserError() {
        ExperimentConfig c = config(40, 2, 1.0, 1.0);
        InMemoryDataset train = SyntheticData.blobs(300, SHAPE, 3, 1.0, 0.3, 4);
        Drains model = new Drains(LogisticRegressionModel.zeros(SHAPE, 3));
        List<String> log = new ArrayList<>();
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .sampling(ZEROS)
                .maxCalls(1)
                .log(log::add)
                .build()) {
            assertEquals(64, t.stepCap());
            assertTrue(
                    log.stream().anyMatch(l -> l.startsWith("warning: maxCalls=1 holds 64 examples per step, below")),
                    log.toString());
            UserError e = assertThrows(UserError.class, t::step);
            assertTrue(e.getMessage().contains("needs 5 device calls"), e.getMessage());
            assertTrue(e.getMessage().contains("raise maxCalls"), e.getMessage());
            assertTrue(model.drained.isEmpty(), "nothing was computed from the refused draw");
            assertEquals(1, t.stepsCharged());
        }
        // No warning when maxCalls·S covers the tail bound.
        List<String> quiet = new ArrayList<>();
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, train, new Drains(LogisticRegressionModel.zeros(SHAPE, 3)))
                .accountants(UnamplifiedRdpAccountant::new)
                .maxCalls(5)
                .log(quiet::add)
                .build()) {
            assertEquals(StepBound.poisson(300, 40.0 / 300), t.stepCap());
            assertTrue(quiet.stream().noneMatch(l -> l.contains("maxCalls")), quiet.toString());
        }
    }

    private static final RandomSource ZEROS = new RandomSource() {
        @Override
        public long nextLong() {
            return 0;
        }

        @Override
        public boolean isSecure() {
            return false;
        }

        @Override
        public byte[] exportState() {
            return new byte[0];
        }

        @Override
        public void restoreState(byte[] state) {}
    };
}
