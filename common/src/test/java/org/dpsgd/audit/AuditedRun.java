package org.dpsgd.audit;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.accounting.NoiseCalibration;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.ExtraExamples;
import org.dpsgd.train.GradientReduction;

/**
 * An audited DP-SGD run of the test jar's logistic regression through the real {@link DpSgdTrainer},
 * optionally with one deliberately broken piece of the mechanism ({@link Defect}; these exist only
 * here, in tests). The data are blobs on the first {@code dataPixels} pixels of each image and zero
 * elsewhere, like the blank border of a digit; the white-box auditor may place its canaries on the
 * weights of those blank pixels, which no real example's gradient touches.
 */
final class AuditedRun {
    /** Broken mechanisms, planted through the trainer's public hooks only. */
    enum Defect {
        NONE,
        /** Gaussian noise added to the first half of each trainable range only. */
        NOISE_ON_HALF_THE_COORDINATES,
        /** Noise of std σC/2 instead of σC. */
        NOISE_HALVED,
        /** The accountant composes every second step only (and σ is calibrated for T/2 steps). */
        HALF_THE_STEPS_CHARGED,
        /** The noisy sum divided by the realised batch size L instead of q·N. */
        DIVIDED_BY_REALISED_BATCH_SIZE
    }

    /**
     * @param epsilon the ε the run is calibrated to claim (δ = 1e-5)
     * @param blankCanaries canaries on the weights of blank pixels (else anywhere trainable)
     * @param accountant rdp (the default) or pld: calibrates σ and charges the steps
     */
    record Settings(
            int n,
            int batch,
            int steps,
            double epsilon,
            int canaries,
            boolean secure,
            boolean blankCanaries,
            long seed,
            CanaryScore score,
            String accountant) {
        Settings(
                int n,
                int batch,
                int steps,
                double epsilon,
                int canaries,
                boolean secure,
                boolean blankCanaries,
                long seed,
                CanaryScore score) {
            this(n, batch, steps, epsilon, canaries, secure, blankCanaries, seed, score, "rdp");
        }

        Settings(
                int n,
                int batch,
                int steps,
                double epsilon,
                int canaries,
                boolean secure,
                boolean blankCanaries,
                long seed) {
            this(n, batch, steps, epsilon, canaries, secure, blankCanaries, seed, CanaryScore.LIKELIHOOD_RATIO);
        }
    }

    record Outcome(double claimedEpsilon, double sigma, AuditResult audit, double ceiling) {}

    static final double DELTA = 1e-5;
    static final int CLASSES = 10;
    static final int DATA_PIXELS = 64;

    private AuditedRun() {}

    private static AccountantKind kind(Settings s) {
        return AccountantKind.parse("accountant", s.accountant());
    }

    /** A trainer ready to run, its defect planted, with its canaries and what the run claims. */
    record Prepared(
            DpSgdTrainer trainer, ExperimentConfig config, GradientCanaries canaries, double sigma, Shape shape) {}

    static Outcome run(Settings s, Defect defect) {
        return run(s, defect, GuessRule.defaultFor(s.canaries()), AuditBound.STEINKE);
    }

    /** The run of {@code s} with {@code defect}, audited by {@code rule} and {@code bound}. */
    static Outcome run(Settings s, Defect defect, GuessRule rule, AuditBound bound) {
        Prepared p = prepare(s, defect, 0);
        try (DpSgdTrainer trainer = p.trainer()) {
            double[] scores =
                    WhiteBoxAudit.train(trainer, p.canaries(), p.config().optimizer(), s.score(), r -> {});
            AuditResult a = PrivacyAudit.audit(scores, p.canaries().coins(), rule, DELTA, 0.95, bound);
            return new Outcome(
                    trainer.epsilon(), p.sigma(), a, PrivacyAudit.ceiling(s.canaries(), rule, DELTA, 0.95, bound));
        }
    }

    /**
     * Builds the run of {@code s} with {@code defect} planted.
     *
     * @param minBlank at least this many blank-pixel weights (probe coordinates for a test that reads
     *     the noise), besides room for every canary
     */
    static Prepared prepare(Settings s, Defect defect, int minBlank) {
        // The smallest square image with room for every canary on a blank-pixel weight.
        int side = 8;
        while (CLASSES * (side * side - DATA_PIXELS) < Math.max(s.canaries(), minBlank)) side++;
        Shape shape = new Shape(1, side, side);
        InMemoryDataset train = blankBordered(shape, s.n(), s.seed());
        double q = (double) s.batch() / s.n();
        long charged = defect == Defect.HALF_THE_STEPS_CHARGED ? s.steps() / 2 : s.steps();
        double sigma = NoiseCalibration.calibrate(s.epsilon(), DELTA, q, charged, kind(s))
                .noiseMultiplier();
        ExperimentConfig config = ConfigLoader.applyOverrides(
                ConfigLoader.parse("""
                model: {name: small-cnn}
                data: {format: synthetic, loader_threads: 1}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-5, noise: fast-insecure}
                training: {batch_size: 10, steps: 10, micro_batch_size: 256}
                optimizer: {name: sgd, lr: 0.5, momentum: 0.5}
                """, "audit-test.yaml"),
                Map.of(
                        "seed",
                        String.valueOf(s.seed()),
                        "privacy.noise_multiplier",
                        String.valueOf(sigma),
                        "privacy.noise",
                        s.secure() ? "secure" : "fast-insecure",
                        "training.batch_size",
                        String.valueOf(s.batch()),
                        "training.steps",
                        String.valueOf(s.steps()),
                        "privacy.accountant",
                        s.accountant()));
        LogisticRegressionModel base = LogisticRegressionModel.zeros(shape, CLASSES);
        CountingModel model = new CountingModel(base);
        RandomGenerator coins = s.secure() ? new SecureRandom() : new SplittableRandom(s.seed() * 31 + 7);
        int[] blank = blankWeights(shape);
        GradientCanaries canaries = s.canaries() == 1
                // One target example on a blank-pixel weight, IN by its coin (a multi-run audit's x).
                ? new GradientCanaries(
                        new int[] {blank[coins.nextInt(blank.length)]}, new boolean[] {coins.nextBoolean()})
                : s.blankCanaries()
                        ? GradientCanaries.draw(s.canaries(), blank, coins)
                        : GradientCanaries.draw(
                                s.canaries(),
                                TrainableMask.all(Math.toIntExact(base.network().parameterCount())),
                                coins);
        CountingCanaries counted = new CountingCanaries(canaries);
        DpSgdTrainer.Builder b = DpSgdTrainer.builder(config, train, model)
                .log(m -> {})
                .extraExamples(counted)
                .accountants(() -> Accountants.create(kind(s)));
        NoiseSource noise = NoiseSources.create(config.privacy().noise(), config.seed(), m -> {}, false);
        switch (defect) {
            case NONE -> {}
            case NOISE_ON_HALF_THE_COORDINATES -> b.noise(new HalfCoordinateNoise(noise));
            case NOISE_HALVED -> b.noise(new ScaledNoise(noise, 0.5));
            case HALF_THE_STEPS_CHARGED -> b.accountants(() -> new EverySecondStep(Accountants.create(kind(s))));
            case DIVIDED_BY_REALISED_BATCH_SIZE -> b.reduction(new RealisedBatchDivisor(model, counted, q * s.n()));
        }
        if (defect != Defect.NOISE_ON_HALF_THE_COORDINATES && defect != Defect.NOISE_HALVED) b.noise(noise);
        return new Prepared(b.build(), config, canaries, sigma, shape);
    }

    /** Blobs on the first {@link #DATA_PIXELS} pixels, zero on the rest. */
    static InMemoryDataset blankBordered(Shape shape, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int d = shape.size();
        double[][] centres = new double[CLASSES][DATA_PIXELS];
        for (double[] c : centres) for (int i = 0; i < DATA_PIXELS; i++) c[i] = rng.nextDouble(-1, 1);
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int e = 0; e < n; e++) {
            y[e] = e % CLASSES;
            for (int i = 0; i < DATA_PIXELS; i++) x[e * d + i] = (float) (centres[y[e]][i] + 0.5 * rng.nextGaussian());
        }
        return new InMemoryDataset(shape, CLASSES, x, y, "blank-bordered blobs(n=" + n + ")");
    }

    /** Weights (class j, pixel i) of the blank pixels: fc.weight is [K, D] row-major. */
    static int[] blankWeights(Shape shape) {
        int d = shape.size();
        List<Integer> w = new ArrayList<>();
        for (int j = 0; j < CLASSES; j++) for (int i = DATA_PIXELS; i < d; i++) w.add(j * d + i);
        return w.stream().mapToInt(Integer::intValue).toArray();
    }

    private record ScaledNoise(NoiseSource inner, double factor) implements NoiseSource {
        @Override
        public void addGaussian(float[] v, int from, int to, double std) {
            inner.addGaussian(v, from, to, std * factor);
        }

        @Override
        public void addGaussian(double[] v, int from, int to, double std) {
            inner.addGaussian(v, from, to, std * factor);
        }

        @Override
        public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
            inner.addGaussianRounded(sum, out, from, to, std * factor);
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

    private record HalfCoordinateNoise(NoiseSource inner) implements NoiseSource {
        @Override
        public void addGaussian(float[] v, int from, int to, double std) {
            inner.addGaussian(v, from, from + (to - from) / 2, std);
        }

        @Override
        public void addGaussian(double[] v, int from, int to, double std) {
            inner.addGaussian(v, from, from + (to - from) / 2, std);
        }

        @Override
        public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
            int half = from + (to - from) / 2;
            inner.addGaussianRounded(sum, out, from, half, std);
            for (int i = half; i < to; i++) out[i] = (float) sum[i];
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

    /** Composes every second event only: the run claims the ε of half its steps. */
    private static final class EverySecondStep implements Accountant {
        private final Accountant inner;
        private long seen;

        EverySecondStep(Accountant inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public void compose(DpEvent e) {
            if (e instanceof DpEvent.SelfComposed sc) {
                inner.compose(new DpEvent.SelfComposed(sc.event(), (sc.count() + (seen % 2 == 0 ? 1 : 0)) / 2));
                seen += sc.count();
            } else if (seen++ % 2 == 0) {
                inner.compose(e);
            }
        }

        @Override
        public double epsilon(double delta) {
            return inner.epsilon(delta);
        }

        @Override
        public List<DpEvent> ledger() {
            return inner.ledger();
        }
    }

    /** Counts the real examples the backend clipped in the current step. */
    static final class CountingModel extends ForwardingTrainableModel {
        long examples;

        CountingModel(TrainableModel inner) {
            super(inner);
        }

        @Override
        public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
            BatchStats s = super.accumulateClipped(batch, clipNorm);
            examples += s.samples();
            return s;
        }
    }

    /** Counts the canaries sampled in the current step. */
    static final class CountingCanaries implements ExtraExamples {
        private final ExtraExamples inner;
        long sampled;

        CountingCanaries(ExtraExamples inner) {
            this.inner = inner;
        }

        @Override
        public int count() {
            return inner.count();
        }

        @Override
        public int addsPerCoordinate() {
            return inner.addsPerCoordinate();
        }

        @Override
        public void addClippedGradient(int index, double[] clippedSum, ClipPolicy clip) {
            sampled++;
            inner.addClippedGradient(index, clippedSum, clip);
        }
    }

    /** Turns the trainer's later division by q·N into one by the realised L (guarded at L = 0, as such code usually is). */
    private record RealisedBatchDivisor(CountingModel model, CountingCanaries canaries, double expected)
            implements GradientReduction {
        @Override
        public boolean drawsNoise() {
            return true;
        }

        @Override
        public void sumAcrossProcesses(double[] sum) {}

        /** After the noise: the noisy sum times q·N/L, so the trainer's division by q·N becomes one by L. */
        @Override
        public void shareNoisySum(float[] sum) {
            long l = model.examples + canaries.sampled;
            model.examples = 0;
            canaries.sampled = 0;
            double f = expected / Math.max(1, l);
            for (int i = 0; i < sum.length; i++) sum[i] = (float) (sum[i] * f);
        }
    }
}
