package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.NoiseCalibration;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.train.DpSgdTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Black-box input canaries end to end through the real {@link DpSgdTrainer} and the test jar's
 * logistic regression as the backend: the canaries' gradients are clipped by the model's own
 * {@code accumulateClipped}, sampled with q = B/N of the real data, and scored by their loss under
 * the final model.
 */
class BlackBoxAuditTest {
    private static final int CLASSES = 10;
    private static final double DELTA = 1e-5;
    private static final Shape SHAPE = new Shape(1, 16, 16); // 64 data pixels, 192 blank

    record Outcome(double claimedEpsilon, double sigma, AuditResult audit, double q, long steps) {}

    /** Trains N blobs (+ the IN canaries) for {@code steps} steps at σ calibrated to {@code epsilon}, then audits. */
    static Outcome run(int n, int batch, int steps, double epsilon, double lr, boolean secure, InputCanaries canaries) {
        InMemoryDataset train = AuditedRun.blankBordered(SHAPE, n, 11);
        double q = (double) batch / n;
        double sigma = NoiseCalibration.calibrate(epsilon, DELTA, q, steps, AccountantKind.RDP)
                .noiseMultiplier();
        ExperimentConfig config = ConfigLoader.applyOverrides(
                ConfigLoader.parse("""
                model: {name: small-cnn}
                data: {format: synthetic, loader_threads: 1}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-5, noise: fast-insecure}
                training: {batch_size: 10, steps: 10, micro_batch_size: 256}
                optimizer: {name: sgd, lr: 0.5, momentum: 0.5}
                """, "blackbox-test.yaml"),
                Map.of(
                        "privacy.noise_multiplier", String.valueOf(sigma),
                        "privacy.noise", secure ? "secure" : "fast-insecure",
                        "training.batch_size", String.valueOf(batch),
                        "training.steps", String.valueOf(steps),
                        "optimizer.lr", String.valueOf(lr)));
        LogisticRegressionModel model = LogisticRegressionModel.zeros(SHAPE, CLASSES);
        canaries.bind(model, 256, 1);
        try (DpSgdTrainer trainer = DpSgdTrainer.builder(config, train, model)
                .log(m -> {})
                .extraExamples(canaries)
                .accountants(() -> Accountants.create(AccountantKind.RDP))
                .build()) {
            while (trainer.canStep()) trainer.step();
            double[] scores = canaries.scores();
            AuditResult a =
                    PrivacyAudit.audit(scores, canaries.coins(), GuessRule.defaultFor(canaries.size()), DELTA, 0.95);
            return new Outcome(trainer.epsilon(), sigma, a, trainer.samplingRate(), trainer.totalSteps());
        }
    }

    /** A held-out split of the same blobs (a different draw from the same centres). */
    static InMemoryDataset testSplit(int size) {
        InMemoryDataset both = AuditedRun.blankBordered(SHAPE, 1000 + size, 11);
        int d = SHAPE.size();
        float[] x = new float[size * d];
        int[] y = new int[size];
        float[] row = new float[d];
        for (int i = 0; i < size; i++) {
            both.read(1000 + i, row, 0);
            System.arraycopy(row, 0, x, i * d, d);
            y[i] = both.label(1000 + i);
        }
        return new InMemoryDataset(SHAPE, CLASSES, x, y, "held-out blobs");
    }

    /** Sound: honest runs with secure noise and secure coins never audit above the ε they report. */
    @ParameterizedTest
    @CsvSource({"1", "3", "8"})
    void honestSecureRunsAuditBelowTheirEpsilon(double epsilon) {
        InputCanaries canaries = InputCanaries.fromTestSplit(500, testSplit(600), new SecureRandom());
        Outcome o = run(1000, 50, 200, epsilon, 0.5, true, canaries);
        assertTrue(o.claimedEpsilon() <= epsilon + 1e-9, "claimed " + o.claimedEpsilon());
        assertTrue(
                o.audit().epsilonLower() <= o.claimedEpsilon(),
                "ε_lower " + o.audit().epsilonLower() + " exceeds the reported ε " + o.claimedEpsilon() + ": "
                        + o.audit());
    }

    /**
     * Powerful: with σ tiny and many steps the model memorises the IN canaries' wrong labels
     * (synthetic inputs, which also light the blank pixels), and the bound is clearly above 0.
     */
    @Test
    void nearlyNoiselessRunShowsALeak() {
        InputCanaries canaries = InputCanaries.synthetic(500, SHAPE, CLASSES, new SplittableRandom(5));
        Outcome o = run(1000, 100, 300, 500, 0.5, false, canaries);
        assertTrue(o.sigma() < 0.3, "σ " + o.sigma());
        assertTrue(o.audit().epsilonLower() > 1.0, "ε_lower " + o.audit());
    }

    /** Test-split canaries that are well fitted also show a leak at σ tiny (power, not only for OOD inputs). */
    @Test
    void nearlyNoiselessRunShowsALeakWithTestImages() {
        InputCanaries canaries = InputCanaries.fromTestSplit(500, testSplit(600), new SplittableRandom(6));
        Outcome o = run(1000, 100, 300, 500, 0.5, false, canaries);
        assertTrue(o.audit().epsilonLower() > 0.5, "ε_lower " + o.audit());
    }

    /** The canaries are extra examples: q = B/N and the step count are those of the N real examples. */
    @Test
    void canariesLeaveTheRealDataAccountingAlone() {
        InputCanaries canaries = InputCanaries.fromTestSplit(200, testSplit(300), new SplittableRandom(7));
        assertTrue(canaries.count() > 50, "IN canaries " + canaries.count());
        Outcome o = run(1000, 50, 20, 3, 0.5, false, canaries);
        assertEquals(0.05, o.q(), 0);
        assertEquals(20, o.steps());
    }

    /** The gradient a sampled canary adds is the backend's clipped per-sample gradient (independent float64 oracle). */
    @ParameterizedTest
    @CsvSource({"0.1", "1.0", "100"})
    void addsTheBackendsClippedGradient(double clipNorm) {
        InMemoryDataset test = testSplit(50);
        InputCanaries canaries = InputCanaries.fromTestSplit(20, test, new SplittableRandom(8));
        int d = SHAPE.size();
        int p = CLASSES * d + CLASSES;
        float[] params = new float[p];
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < p; i++) params[i] = (float) (0.1 * r.nextGaussian());
        LogisticRegressionModel model = LogisticRegressionModel.zeros(SHAPE, CLASSES);
        model.writeParameters(params);
        canaries.bind(model, 8, 2);
        int[] ids = canaries.sourceIds();
        int[] labels = canaries.labels();
        boolean[] coins = canaries.coins();
        int extra = 0;
        for (int k = 0; k < canaries.size(); k++) {
            if (!coins[k]) continue;
            double[] sum = new double[p];
            sum[0] = 3; // the step's real clipped sum (float64, before the noise): the canary's gradient is added to it
            canaries.addClippedGradient(extra++, sum, ClipPolicy.flat(clipNorm));
            float[] x = new float[d];
            test.read(ids[k], x, 0);
            double[] g = softmaxGradient(params, x, labels[k]);
            double norm = Math.sqrt(Arrays.stream(g).map(v -> v * v).sum());
            double scale = Math.min(1, clipNorm / norm);
            g[0] += 3 / scale;
            for (int i = 0; i < p; i++) assertEquals(scale * g[i], sum[i], 1e-5, "coordinate " + i);
        }
        assertEquals(canaries.count(), extra);
    }

    @Test
    void addsTheCanarysGradientToTheSumInFloat64() {
        InMemoryDataset test = testSplit(50);
        InputCanaries canaries = InputCanaries.fromTestSplit(20, test, new SplittableRandom(8));
        int p = CLASSES * SHAPE.size() + CLASSES;
        float[] params = new float[p];
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < p; i++) params[i] = (float) (0.1 * r.nextGaussian());
        LogisticRegressionModel model = LogisticRegressionModel.zeros(SHAPE, CLASSES);
        model.writeParameters(params);
        canaries.bind(model, 8, 1);
        ClipPolicy clip = ClipPolicy.flat(0.1);
        // The canary's clipped gradient alone (added to zeros: exact), then added to a large private sum.
        double[] alone = new double[p];
        canaries.addClippedGradient(0, alone, clip);
        double[] sum = new double[p];
        Arrays.fill(sum, 1e8); // a float ulp here is 8: every |g_i| ≤ 0.1 would be rounded away in float
        canaries.addClippedGradient(0, sum, clip);
        int belowFloatUlp = 0;
        for (int i = 0; i < p; i++) {
            assertEquals(1e8 + alone[i], sum[i], 0.0, "coordinate " + i);
            if (alone[i] != 0 && (float) (1e8 + alone[i]) == 1e8f) belowFloatUlp++;
        }
        assertTrue(belowFloatUlp >= CLASSES, belowFloatUlp + " of " + p + " coordinates test the float64 add");
    }

    /** Cross-entropy gradient of a linear softmax model, [K, D] weights then K biases, in float64. */
    private static double[] softmaxGradient(float[] params, float[] x, int label) {
        int d = x.length;
        double[] z = new double[CLASSES];
        for (int j = 0; j < CLASSES; j++) {
            z[j] = params[CLASSES * d + j];
            for (int i = 0; i < d; i++) z[j] += params[j * d + i] * (double) x[i];
        }
        double max = Arrays.stream(z).max().orElseThrow();
        double total = Arrays.stream(z).map(v -> Math.exp(v - max)).sum();
        double[] g = new double[CLASSES * d + CLASSES];
        for (int j = 0; j < CLASSES; j++) {
            double dz = Math.exp(z[j] - max) / total - (j == label ? 1 : 0);
            for (int i = 0; i < d; i++) g[j * d + i] = dz * x[i];
            g[CLASSES * d + j] = dz;
        }
        return g;
    }

    /** Test images are distinct, each gets a wrong label, coins are fair (binomial 4σ band over 4000). */
    @Test
    void drawsDistinctTestImagesWithWrongLabels() {
        InMemoryDataset test = testSplit(5000);
        RandomGenerator rng = new SplittableRandom(10);
        InputCanaries c = InputCanaries.fromTestSplit(4000, test, rng);
        int[] ids = c.sourceIds();
        assertEquals(4000, Arrays.stream(ids).distinct().count());
        int[] labels = c.labels();
        for (int k = 0; k < ids.length; k++) {
            assertTrue(ids[k] >= 0 && ids[k] < 5000);
            assertNotEquals(test.label(ids[k]), labels[k], "canary " + k + " kept its true label");
        }
        // Every wrong class is used: the label is uniform among the 9 wrong ones (each ≈ 444 of 4000).
        int[] perOffset = new int[CLASSES];
        for (int k = 0; k < ids.length; k++) perOffset[(labels[k] - test.label(ids[k]) + CLASSES) % CLASSES]++;
        assertEquals(0, perOffset[0]);
        for (int o = 1; o < CLASSES; o++)
            assertTrue(
                    Math.abs(perOffset[o] - 4000 / 9.0) < 4 * Math.sqrt(4000 * (1 / 9.0) * (8 / 9.0)),
                    "offset " + o + ": " + perOffset[o]);
        long in = c.count();
        assertTrue(Math.abs(in - 2000) < 4 * Math.sqrt(1000), "IN " + in);
    }

    /** The held-out view is the test split minus exactly the canary images, in order. */
    @Test
    void heldOutLeavesOutExactlyTheCanaryImages() {
        InMemoryDataset test = testSplit(100);
        InputCanaries c = InputCanaries.fromTestSplit(30, test, new SplittableRandom(12));
        org.dpsgd.data.Dataset rest = c.heldOut(test);
        assertEquals(70, rest.size());
        java.util.Set<Integer> used = new java.util.HashSet<>();
        for (int id : c.sourceIds()) used.add(id);
        int d = SHAPE.size();
        float[] a = new float[d];
        float[] b = new float[d];
        int j = 0;
        for (int i = 0; i < 100; i++) {
            if (used.contains(i)) continue;
            test.read(i, a, 0);
            rest.read(j, b, 0);
            assertEquals(test.label(i), rest.label(j));
            assertEquals(Arrays.toString(a), Arrays.toString(b), "example " + j);
            j++;
        }
        assertEquals(70, j);
    }

    @Test
    void refusesMoreCanariesThanTestImagesAndUnboundUse() {
        InMemoryDataset test = testSplit(30);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> InputCanaries.fromTestSplit(31, test, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("--canaries"), e.getMessage());
        InputCanaries c = InputCanaries.fromTestSplit(10, test, new SplittableRandom(1));
        assertThrows(IllegalStateException.class, c::scores);
    }
}
