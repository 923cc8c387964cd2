package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.NoiseCalibration;
import org.dpsgd.audit.AuditResult;
import org.dpsgd.audit.CanaryScore;
import org.dpsgd.audit.GradientCanaries;
import org.dpsgd.audit.GuessRule;
import org.dpsgd.audit.PrivacyAudit;
import org.dpsgd.audit.WhiteBoxAudit;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.train.DpSgdTrainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The white-box audit through the IPU backend's host path, with the device's work done by DJL executing
 * the IPU plan (as in {@link IpuPlanDjlParityTest}): the trainer lays every Poisson batch out in the IPU
 * backend's own layout (2 replicas x 2 micro-batches x 4 slots, a fixed number of device calls per
 * step, padding masked), each call is one {@code accumulateClipped} of DJL's microbatch strategy, and the
 * clipped sum, the canaries, the noise, the division by q·N and the optimizer happen on the host exactly
 * as for an IPU run. Model: a linear classifier on images whose border pixels are blank, canaries on the
 * weights of those pixels.
 */
class IpuAuditThroughDjlPlanTest {
    private static final int N = 500, CLASSES = 10, SIDE = 12, DATA_PIXELS = 16, CANARIES = 1000;
    private static final double DELTA = 1e-5;
    private static Backend djl;

    @BeforeAll
    static void openDjl() {
        djl = Backends.select("djl", msg -> {}).open(BackendOptions.cpu());
    }

    @AfterAll
    static void closeDjl() {
        if (djl != null) djl.close();
    }

    /** Sound: an honest run with secure noise and secure coins audits at or below the ε it reports. */
    @Test
    void honestSecureRunAuditsBelowItsEpsilon() {
        double sigma = NoiseCalibration.calibrate(3, DELTA, 0.1, 100, AccountantKind.RDP)
                .noiseMultiplier();
        Audited a = run(sigma, "secure", new SecureRandom());
        assertEquals(3, a.epsilon(), 0.01);
        assertTrue(a.audit().epsilonLower() <= a.epsilon(), a.toString());
    }

    /** Powerful: with σ = 0.2 (ε in the hundreds) every guess is right and ε_lower is the rule's ceiling for m. */
    @Test
    void nearlyNoiselessRunReachesTheCeiling() {
        Audited a = run(0.2, "fast-insecure", new SplittableRandom(9));
        assertTrue(a.epsilon() > 100, a.toString());
        assertEquals(a.audit().guesses(), a.audit().correct(), a.toString());
        double ceiling = PrivacyAudit.ceiling(CANARIES, GuessRule.defaultFor(CANARIES), DELTA, 0.95);
        assertEquals(ceiling, a.audit().epsilonLower(), 1e-9);
    }

    private record Audited(double epsilon, AuditResult audit, long steps) {}

    private static Audited run(double sigma, String noise, java.util.random.RandomGenerator coins) {
        Shape shape = new Shape(1, SIDE, SIDE);
        int d = shape.size();
        Network net = new Network(
                "linear", shape, CLASSES, List.of(new Layer.Flatten(), new Layer.Linear("fc", d, CLASSES, true)));
        ExperimentConfig config = ConfigLoader.applyOverrides(
                ConfigLoader.parse("""
                model: {name: small-cnn}
                data: {format: synthetic, loader_threads: 1}
                backend: {name: ipu}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-5, noise: fast-insecure}
                training: {batch_size: 50, steps: 100, micro_batch_size: 4, accumulation: 2}
                optimizer: {name: sgd, lr: 0.5, momentum: 0.5}
                """, "ipu-audit-test.yaml"),
                Map.of("privacy.noise_multiplier", String.valueOf(sigma), "privacy.noise", noise));
        IpuSettings settings = IpuSettings.parse(Map.of("replicas", "2", "max_calls", "8"));
        BatchLayout layout = new IpuBackend(settings, "plan executed by DJL").layoutFor(net, new BatchLayout(4, 2, 1));
        assertEquals(16, layout.slotsPerCall());
        GradientCanaries canaries = GradientCanaries.draw(CANARIES, blankWeights(d), coins);
        try (TrainableModel model = djl.createModel(
                        net,
                        new ModelOptions("microbatch", layout, List.of(), Map.of("dtype", "float32", "seed", "3")));
                DpSgdTrainer trainer = DpSgdTrainer.builder(config, blankBordered(shape), model)
                        .layout(layout)
                        .maxCalls(settings.maxCalls())
                        .log(m -> {})
                        .noise(NoiseSources.create(config.privacy().noise(), 4, m -> {}, false))
                        .accountants(() -> Accountants.create(AccountantKind.RDP))
                        .extraExamples(canaries)
                        .build()) {
            double[] scores = WhiteBoxAudit.train(
                    trainer, canaries, config.optimizer(), CanaryScore.OBSERVED_LIKELIHOOD_RATIO, r -> {});
            AuditResult a = PrivacyAudit.audit(scores, canaries.coins(), GuessRule.defaultFor(CANARIES), DELTA, 0.95);
            return new Audited(trainer.epsilon(), a, trainer.stepsDone());
        }
    }

    /** Blobs on the first {@link #DATA_PIXELS} pixels, zero elsewhere (a blank border no example's gradient touches). */
    private static InMemoryDataset blankBordered(Shape shape) {
        SplittableRandom rng = new SplittableRandom(17);
        int d = shape.size();
        double[][] centres = new double[CLASSES][DATA_PIXELS];
        for (double[] c : centres) for (int i = 0; i < DATA_PIXELS; i++) c[i] = rng.nextDouble(-1, 1);
        float[] x = new float[N * d];
        int[] y = new int[N];
        for (int e = 0; e < N; e++) {
            y[e] = e % CLASSES;
            for (int i = 0; i < DATA_PIXELS; i++) x[e * d + i] = (float) (centres[y[e]][i] + 0.5 * rng.nextGaussian());
        }
        return new InMemoryDataset(shape, CLASSES, x, y, "blank-bordered blobs");
    }

    /** fc.weight is [classes, d] row-major and comes first in the network's parameters. */
    private static int[] blankWeights(int d) {
        List<Integer> w = new ArrayList<>();
        for (int j = 0; j < CLASSES; j++) for (int i = DATA_PIXELS; i < d; i++) w.add(j * d + i);
        return w.stream().mapToInt(Integer::intValue).toArray();
    }
}
