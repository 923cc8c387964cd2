package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.accounting.NoiseCalibration;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.BatchAssembler;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.plan.DeviceCall;
import org.dpsgd.plan.StaticShapePlanner;
import org.dpsgd.sampling.PoissonSampler;
import org.dpsgd.sampling.SecureRandomSource;
import org.dpsgd.sampling.SeededRandomSource;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class DpSgdTrainerTest {
    private static final Shape SHAPE = new Shape(1, 4, 4);
    private static final InMemoryDataset TRAIN = SyntheticData.blobs(400, SHAPE, 3, 1.0, 0.3, 1);
    private static final InMemoryDataset TEST =
            SyntheticData.blobs(400, SHAPE, 3, 1.0, 0.3, 1).limit(200); // same centres

    private static final String YAML = """
            seed: 5
            model: {name: small-cnn}
            data: {format: synthetic, loader_threads: 2}
            privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-4, noise: fast-insecure}
            training: {batch_size: 40, steps: 30, micro_batch_size: 8}
            optimizer: {name: sgd, lr: 0.5, momentum: 0.5}
            """;

    private static ExperimentConfig config(Map<String, String> overrides) {
        return ConfigLoader.applyOverrides(ConfigLoader.parse(YAML, "test.yaml"), overrides);
    }

    private static LogisticRegressionModel model() {
        return LogisticRegressionModel.zeros(SHAPE, 3);
    }

    private static DpSgdTrainer.Builder builder(ExperimentConfig c, LogisticRegressionModel m) {
        return DpSgdTrainer.builder(c, TRAIN, m)
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {});
    }

    @Test
    void learnsALinearlySeparableProblemPrivately() {
        ExperimentConfig c = config(Map.of("training.steps", "60", "optimizer.lr", "2"));
        try (DpSgdTrainer t = builder(c, model()).build()) {
            double before = t.evaluate(TEST).model().accuracy();
            StepResult last = null;
            while (t.canStep()) last = t.step();
            assertEquals(60, t.stepsDone());
            assertTrue(t.isFinished());
            double after = t.evaluate(TEST).model().accuracy();
            assertTrue(after > 0.9 && after > before + 0.3, "accuracy " + before + " -> " + after);
            assertTrue(last.epsilon() > 0 && Double.isFinite(last.epsilon()));
            assertEquals(0.1, t.samplingRate(), 1e-15);
            assertThrows(IllegalStateException.class, t::step);
        }
    }

    @Test
    void eachUpdateIsNoisyClippedSumOverTheExpectedBatchSize() {
        // Independent recomputation of every step: same seeded batches and noise, the reference
        // model's clipped sum, divided by B = q·N = 2, whatever the realised size L (often 0 here).
        ExperimentConfig c = config(Map.of(
                "training.batch_size",
                "2",
                "training.steps",
                "25",
                "optimizer.momentum",
                "0",
                "optimizer.lr",
                "0.3",
                "privacy.clip_norm",
                "0.5",
                "privacy.noise_multiplier",
                "0.7"));
        LogisticRegressionModel m = model();
        PoissonSampler replay = new PoissonSampler(400, 0.005, new SeededRandomSource(5));
        NoiseSource noise = NoiseSources.create(NoiseMode.FAST_INSECURE, 5, w -> {});
        List<Integer> sizes = new ArrayList<>();
        try (DpSgdTrainer t = builder(c, m).build()) {
            float[] before = t.parameters();
            while (t.canStep()) {
                StepResult r = t.step();
                int[] batch = replay.next();
                assertEquals(batch.length, r.batchSize());
                sizes.add(batch.length);
                LogisticRegressionModel ref = new LogisticRegressionModel(SHAPE, 3, null, before);
                float[] sum = new float[before.length];
                DeviceBatch one = new DeviceBatch(SHAPE, 1, 1);
                for (int id : batch) {
                    TRAIN.read(id, one.inputs(), 0);
                    one.labels()[0] = TRAIN.label(id);
                    one.mask()[0] = 1f;
                    ref.accumulateClipped(one, 0.5);
                }
                ref.drainGradientSum(sum);
                noise.addGaussian(sum, 0.7 * 0.5);
                float[] after = t.parameters();
                for (int i = 0; i < before.length; i++)
                    assertEquals(before[i] - 0.3 * sum[i] / 2, after[i], 1e-6, "step " + r.step());
                before = after;
            }
        }
        assertTrue(
                sizes.contains(0) && sizes.stream().anyMatch(l -> l > 1),
                "steps with different L, including empty ones: " + sizes);
    }

    @Test
    void paddingAndLayoutChangeNothing() {
        ExperimentConfig c = config(Map.of(
                "data.augmentation.random_crop",
                "1",
                "data.augmentation.flip",
                "true",
                "data.augmentation.multiplicity",
                "2",
                "training.steps",
                "8"));
        float[] reference = run(c, BatchLayout.of(1), 0);
        assertArrayEquals(reference, run(c, new BatchLayout(7, 2, 1), 0), "padded micro-batches and accumulation");
        assertArrayEquals(reference, run(c, BatchLayout.of(64), 0), "mostly padding");
        assertArrayEquals(reference, run(c, new BatchLayout(16, 1, 1), 6), "fixed call count with all-padding calls");
        float[] replicas = run(c, new BatchLayout(3, 2, 3), 0); // other slot order: same sum up to rounding
        for (int i = 0; i < reference.length; i++) assertEquals(reference[i], replicas[i], 1e-5);
    }

    /**
     * Augmentation is keyed by position in the step, so a private run must key it secretly: with the
     * public config seed, removing one example would move every later example's crop and flip in a way
     * anyone can compute (AugmentationSeeds). The first call's augmented inputs equal a public-seed
     * assembly of the same slots exactly when the run is seeded (fast-insecure), never when secure.
     */
    @ParameterizedTest
    @ValueSource(strings = {"secure", "fast-insecure"})
    void privateRunsAugmentWithASecretKeyAndSeededRunsWithTheConfigSeed(String noise) {
        ExperimentConfig c = config(Map.of(
                "data.augmentation.random_crop", "1",
                "data.augmentation.flip", "true",
                "data.augmentation.multiplicity", "2",
                "privacy.noise", noise));
        float[][] inputs = {null};
        int[][] ids = {null};
        ForwardingTrainableModel spy = new ForwardingTrainableModel(model()) {
            @Override
            public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
                if (inputs[0] == null) {
                    inputs[0] = batch.inputs().clone();
                    ids[0] = Arrays.stream(batch.exampleIds())
                            .mapToInt(Math::toIntExact)
                            .toArray();
                }
                return super.accumulateClipped(batch, clipNorm);
            }
        };
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, spy)
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {})
                .layout(BatchLayout.of(8))
                .build()) {
            assertEquals(noise.equals("secure"), t.epsilonHolds());
            t.step();
        }
        int[] positions = new int[ids[0].length];
        for (int s = 0; s < positions.length; s++) positions[s] = ids[0][s] < 0 ? -1 : s; // the first call: in order
        DeviceBatch expected = new DeviceBatch(SHAPE, 8, 2);
        try (BatchAssembler a = new BatchAssembler(TRAIN, c.data().augmentation(), c.seed(), 1)) {
            a.assemble(new DeviceCall(ids[0], positions), expected, 0);
        }
        boolean samePublic = Arrays.equals(expected.inputs(), inputs[0]);
        assertEquals(noise.equals("fast-insecure"), samePublic, "augmented with the public config seed");
    }

    @Test
    void prefetchedBatchesGiveTheSameRunBitForBit() {
        ExperimentConfig c = config(Map.of(
                "data.augmentation.random_crop",
                "1",
                "data.augmentation.flip",
                "true",
                "data.augmentation.multiplicity",
                "2",
                "training.steps",
                "10",
                "training.batch_size",
                "60"));
        for (BatchLayout layout :
                new BatchLayout[] {BatchLayout.of(1), new BatchLayout(7, 2, 1), new BatchLayout(3, 2, 3)}) {
            float[] plain = run(c, layout, 0, false);
            assertArrayEquals(plain, run(c, layout, 0, true), "layout " + layout);
        }
        assertArrayEquals(
                run(c, new BatchLayout(16, 1, 1), 8, false),
                run(c, new BatchLayout(16, 1, 1), 8, true),
                "with all-padding calls");
    }

    private static float[] run(ExperimentConfig c, BatchLayout layout, int maxCalls) {
        return run(c, layout, maxCalls, false);
    }

    private static float[] run(ExperimentConfig c, BatchLayout layout, int maxCalls, boolean prefetch) {
        try (DpSgdTrainer t = builder(c, model())
                .layout(layout)
                .maxCalls(maxCalls)
                .prefetchBatches(prefetch)
                .build()) {
            while (t.canStep()) t.step();
            return t.parameters();
        }
    }

    @Test
    void snapshotRestoreContinueEqualsAnUninterruptedRunBitForBit() throws Exception {
        ExperimentConfig c = config(Map.of(
                "data.augmentation.random_crop",
                "1",
                "data.augmentation.flip",
                "true",
                "training.ema",
                "0.9",
                "training.steps",
                "12",
                "optimizer.name",
                "adamw",
                "optimizer.lr",
                "0.05",
                "optimizer.weight_decay",
                "0.01",
                "optimizer.momentum",
                "0"));
        DpSgdTrainer whole = builder(c, model()).build();
        List<StepResult> expected = new ArrayList<>();
        while (whole.canStep()) expected.add(whole.step());

        DpSgdTrainer first = builder(c, model()).build();
        for (int i = 0; i < 5; i++) first.step();
        ObjectMapper json = new ObjectMapper();
        TrainerState saved = json.readValue(json.writeValueAsString(first.snapshot()), TrainerState.class);
        first.close();

        DpSgdTrainer resumed = DpSgdTrainer.builder(c, TRAIN, model())
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {})
                .build();
        resumed.restore(saved);
        assertEquals(5, resumed.stepsDone());
        List<StepResult> rest = new ArrayList<>();
        while (resumed.canStep()) rest.add(resumed.step());
        assertEquals(7, rest.size());
        assertArrayEquals(whole.parameters(), resumed.parameters());
        assertArrayEquals(whole.emaParameters(), resumed.emaParameters());
        assertEquals(expected.get(11).epsilon(), rest.get(6).epsilon());
        assertEquals(expected.get(11).batchSize(), rest.get(6).batchSize());
        assertEquals(12, resumed.stepsCharged());
        whole.close();
        resumed.close();
    }

    /**
     * As on an accelerator backend (ON), or a CPU backend with noise_prefetch=idle: the next step's secure noise is
     * drawn in the background while the step runs.
     */
    @ParameterizedTest
    @EnumSource(
            value = org.dpsgd.noise.NoisePrefetch.class,
            names = {"ON", "IDLE"})
    void secureTrainingWithPrefetchedNoiseLearnsAndStaysSecure(org.dpsgd.noise.NoisePrefetch mode) {
        // IDLE needs Linux's SCHED_IDLE (auto on a host-core backend picks it exactly where it is available). This
        // model's 51 coordinates are drawn when needed even so (2 chunks at most): the wiring is what is checked here;
        // a draw ahead on idle threads in a training run is PrivateTrainingTest's.
        org.junit.jupiter.api.Assumptions.assumeTrue(
                mode != org.dpsgd.noise.NoisePrefetch.IDLE
                        || org.dpsgd.noise.NoisePrefetch.from(Map.of(), true) == org.dpsgd.noise.NoisePrefetch.IDLE,
                "no SCHED_IDLE here");
        ExperimentConfig c = config(Map.of("training.steps", "60", "optimizer.lr", "2", "privacy.noise", "secure"));
        try (DpSgdTrainer t = builder(c, model()).prefetchNoise(mode).build()) {
            assertTrue(t.noise().isSecure() && t.epsilonHolds());
            assertEquals(mode, t.noisePrefetch());
            while (t.canStep()) t.step();
            assertEquals(60, t.stepsDone());
            double after = t.evaluate(TEST).model().accuracy();
            assertTrue(after > 0.9, "accuracy " + after);
            assertNull(t.snapshot().noiseCalls(), "no noise state is saved");
        }
    }

    @Test
    void secureRunsNeverSaveKeysAndReKeyOnResume() {
        ExperimentConfig c = config(Map.of("privacy.noise", "secure"));
        List<String> log = new ArrayList<>();
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, model())
                .accountants(UnamplifiedRdpAccountant::new)
                .log(log::add)
                .build()) {
            assertTrue(t.noise().isSecure());
            assertTrue(t.epsilonHolds());
            t.step();
            TrainerState s = t.snapshot();
            assertNull(s.sampler());
            assertNull(s.noiseCalls());
            try (DpSgdTrainer r = DpSgdTrainer.builder(c, TRAIN, model())
                    .accountants(UnamplifiedRdpAccountant::new)
                    .log(log::add)
                    .build()) {
                r.restore(s);
                assertTrue(log.stream().anyMatch(l -> l.contains("re-keyed")), log.toString());
                r.step();
                assertEquals(2, r.stepsDone());
            }
        }
        assertFalse(log.stream().anyMatch(l -> l.contains("INSECURE")), log.toString());
    }

    @Test
    void stopsBeforeExceedingTheTargetEpsilon() {
        ExperimentConfig c = config(
                Map.of("privacy.noise_multiplier", "null", "privacy.target_epsilon", "6", "training.steps", "1000"));
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, model())
                .accountants(UnamplifiedRdpAccountant::new)
                .noiseMultiplier(3.0)
                .log(s -> {})
                .build()) {
            Accountant acc = t.budget().accountant();
            double eps = 0;
            while (t.canStep()) eps = t.step().epsilon();
            long steps = t.stepsDone();
            assertTrue(steps > 5 && steps < 1000, "stopped by the budget after " + steps + " steps");
            assertTrue(eps <= 6, "never above the target: " + eps);
            assertEquals(acc.epsilon(1e-4), eps, 1e-12);
            Accountant oneMore = new UnamplifiedRdpAccountant();
            acc.ledger().forEach(oneMore::compose);
            oneMore.compose(DpEvent.dpSgdStep(0.1, 3.0));
            assertTrue(oneMore.epsilon(1e-4) > 6, "one more step would have crossed the target");
            IllegalStateException e = assertThrows(IllegalStateException.class, t::step);
            assertTrue(e.getMessage().contains("privacy budget"), e.getMessage());
            assertEquals(steps, t.stepsCharged(), "the refused step composed nothing");
        }
    }

    @Test
    void withTheRealRdpAccountantACalibratedSigmaRunsAllStepsAndASmallerOneStopsEarly() {
        ExperimentConfig c = config(
                Map.of("privacy.noise_multiplier", "null", "privacy.target_epsilon", "2", "training.steps", "30"));
        NoiseCalibration.Result cal = NoiseCalibration.calibrate(2.0, 1e-4, 0.1, 30, AccountantKind.RDP);
        for (double sigma : new double[] {cal.noiseMultiplier(), cal.noiseMultiplier() * 0.8}) {
            try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, model())
                    .accountants(() -> Accountants.create(AccountantKind.RDP))
                    .noiseMultiplier(sigma)
                    .log(s -> {})
                    .build()) {
                while (t.canStep()) t.step();
                assertTrue(t.epsilon() <= 2.0, "σ=" + sigma + ": ε=" + t.epsilon());
                if (sigma == cal.noiseMultiplier()) {
                    assertEquals(30, t.stepsDone(), "the calibrated σ affords every planned step");
                } else {
                    assertTrue(t.stepsDone() < 30, "a smaller σ stops early");
                    assertTrue(Accountants.epsilon(0.1, sigma, t.stepsDone() + 1, 1e-4, AccountantKind.RDP) > 2.0);
                }
            }
        }
    }

    @Test
    void withTheRealPldAccountantTheRunStopsAtTheLastStepWithinTheTarget() {
        ExperimentConfig c = config(Map.of(
                "privacy.noise_multiplier",
                "null",
                "privacy.target_epsilon",
                "1.5",
                "privacy.accountant",
                "pld",
                "training.steps",
                "40"));
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, model())
                .accountants(() -> Accountants.create(AccountantKind.PLD))
                .noiseMultiplier(1.2)
                .log(s -> {})
                .build()) {
            while (t.canStep()) t.step(); // ε read once at the end: PLD conversions are slow
            long steps = t.stepsDone();
            assertTrue(steps > 0 && steps < 40, "stopped by the budget after " + steps);
            assertTrue(t.epsilon() <= 1.5, "ε=" + t.epsilon());
            assertTrue(Accountants.epsilon(0.1, 1.2, steps + 1, 1e-4, AccountantKind.PLD) > 1.5);
        }
    }

    @Test
    void evaluatesEmaAlongsideTheParameters() {
        ExperimentConfig c = config(Map.of("training.ema", "0.8", "training.steps", "10"));
        LogisticRegressionModel m = model();
        try (DpSgdTrainer t = builder(c, m).build()) {
            double[] ema = new double[t.parameters().length];
            for (int i = 0; i < ema.length; i++) ema[i] = t.parameters()[i];
            while (t.canStep()) {
                t.step();
                float[] p = t.parameters();
                for (int i = 0; i < ema.length; i++) ema[i] = 0.8 * ema[i] + 0.2 * p[i];
            }
            for (int i = 0; i < ema.length; i++) assertEquals(ema[i], t.emaParameters()[i], 1e-5);
            Evaluation e = t.evaluate(TEST);
            assertNotNull(e.ema());
            assertEquals(200, e.model().samples());
            assertEquals(200, e.ema().samples());
            assertFalse(java.util.Arrays.equals(t.parameters(), t.emaParameters()));
            float[] inModel = new float[t.parameters().length];
            m.readParameters(inModel);
            assertArrayEquals(t.parameters(), inModel, "evaluation leaves the live parameters in the model");
        }
    }

    @Test
    void nonPrivateBaselineAveragesOverTheRealisedBatch() throws Exception {
        ExperimentConfig c = config(Map.of("privacy.enabled", "false", "training.steps", "40", "optimizer.lr", "1"));
        try (DpSgdTrainer t =
                DpSgdTrainer.builder(c, TRAIN, model()).log(s -> {}).build()) {
            StepResult r = null;
            while (t.canStep()) r = t.step();
            assertEquals(Double.POSITIVE_INFINITY, r.epsilon());
            assertFalse(t.epsilonHolds());
            assertTrue(t.evaluate(TEST).model().accuracy() > 0.9);
            ObjectMapper json = new ObjectMapper();
            TrainerState s = json.readValue(json.writeValueAsString(t.snapshot()), TrainerState.class);
            try (DpSgdTrainer again =
                    DpSgdTrainer.builder(c, TRAIN, model()).log(x -> {}).build()) {
                again.restore(s);
                assertArrayEquals(t.parameters(), again.parameters());
            }
        }
    }

    @Test
    void shuffleSamplingWarnsAndDoesNotClaimEpsilon() {
        List<String> log = new ArrayList<>();
        ExperimentConfig c = config(Map.of("privacy.sampling", "shuffle"));
        try (DpSgdTrainer t = builder(c, model()).log(log::add).build()) {
            assertEquals(40, t.step().batchSize());
            assertFalse(t.epsilonHolds());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("SHUFFLE SAMPLING")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("INSECURE NOISE")), log.toString());
    }

    @Test
    void refusesUnsafeOrInconsistentSetups() {
        ExperimentConfig secure = config(Map.of("privacy.noise", "secure"));
        NoiseSource insecure = NoiseSources.create(NoiseMode.FAST_INSECURE, 1, w -> {});
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> builder(secure, model()).noise(insecure).build());
        assertTrue(e.getMessage().contains("insecure noise source"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> builder(secure, model())
                        .sampling(new SeededRandomSource(1))
                        .build());

        ExperimentConfig target = config(Map.of("privacy.noise_multiplier", "null", "privacy.target_epsilon", "3"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> builder(target, model()).build())
                .getMessage()
                .contains("calibrate σ"));
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> DpSgdTrainer.builder(target, TRAIN, model())
                                .noiseMultiplier(2)
                                .log(s -> {})
                                .build())
                .getMessage()
                .contains("accountant factory"));
        ExperimentConfig plain = config(Map.of());
        assertThrows(
                IllegalArgumentException.class,
                () -> builder(plain, model()).noiseMultiplier(2.5).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> DpSgdTrainer.builder(plain, TRAIN, model()).log(s -> {}).build());
        UnamplifiedRdpAccountant used = new UnamplifiedRdpAccountant();
        used.compose(DpEvent.dpSgdStep(0.1, 1));
        assertThrows(
                IllegalArgumentException.class,
                () -> DpSgdTrainer.builder(plain, TRAIN, model())
                        .accountants(() -> used)
                        .log(s -> {})
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> DpSgdTrainer.builder(plain, TRAIN, LogisticRegressionModel.zeros(new Shape(1, 2, 2), 3))
                        .accountants(UnamplifiedRdpAccountant::new)
                        .log(s -> {})
                        .build());
        try (DpSgdTrainer t = builder(plain, model()).build()) {
            TrainerState s = t.snapshot();
            try (DpSgdTrainer other = builder(config(Map.of("privacy.noise_multiplier", "2")), model())
                    .build()) {
                assertTrue(assertThrows(IllegalArgumentException.class, () -> other.restore(s))
                        .getMessage()
                        .contains("σ"));
            }
        }
    }

    @ParameterizedTest(name = "prefetch {0}")
    @ValueSource(booleans = {false, true})
    void aFailedDeviceCallLeavesNoHalfAccumulatedSumBehind(boolean prefetch) {
        LogisticRegressionModel inner = model();
        int[] calls = {0};
        org.dpsgd.backend.TrainableModel failing = new ForwardingTrainableModel(inner) {
            @Override
            public org.dpsgd.backend.BatchStats accumulateClipped(DeviceBatch b, double c) {
                if (++calls[0] == 2) throw new IllegalStateException("device lost");
                return super.accumulateClipped(b, c);
            }

            @Override
            public void close() {}
        };
        try (DpSgdTrainer t = DpSgdTrainer.builder(config(Map.of()), TRAIN, failing)
                .accountants(UnamplifiedRdpAccountant::new)
                .layout(BatchLayout.of(4))
                .prefetchBatches(prefetch)
                .log(s -> {})
                .build()) {
            assertThrows(IllegalStateException.class, t::step);
            float[] left = new float[t.parameters().length];
            inner.drainGradientSum(left);
            assertArrayEquals(new float[left.length], left, "the first call's clipped sum was discarded");
            assertEquals(0, t.stepsDone());
        }
    }

    @Test
    void secureSourcesAreTheDefault() {
        ExperimentConfig c = config(Map.of("privacy.noise", "secure"));
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, model())
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {})
                .build()) {
            assertTrue(t.noise().isSecure());
            assertTrue(t.snapshot().sampler() == null, "the default sampling source is secure");
        }
        assertTrue(SecureRandomSource.create().isSecure());
    }

    /** Keeps the unused-import checker honest about helpers used only in some tests. */
    @SuppressWarnings("unused")
    private static void unused(BatchAssembler a, DeviceCall d, StaticShapePlanner p) {}
}
