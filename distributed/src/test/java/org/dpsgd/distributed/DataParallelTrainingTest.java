package org.dpsgd.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.sampling.RandomSources;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.dpsgd.train.DpSgdTrainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * W ranks as threads ({@link InProcessGroup}) each train on their shard with {@link DataParallel}; the
 * reference is one trainer over the whole set with the same counter-based sampling. The rank runs must
 * take the single-process steps: same batches, one noise draw, the global q·N divisor, one ledger.
 */
class DataParallelTrainingTest {
    private static final Shape SHAPE = new Shape(1, 4, 4);
    private static final InMemoryDataset TRAIN = SyntheticData.blobs(401, SHAPE, 3, 1.0, 0.3, 1);

    private static final String YAML = """
            seed: 5
            model: {name: small-cnn}
            data: {format: synthetic, loader_threads: 1}
            privacy: {clip_norm: 1.0, noise_multiplier: 3.0, delta: 1e-4, noise: fast-insecure}
            training: {batch_size: 40, steps: 25, micro_batch_size: 8}
            optimizer: {name: sgd, lr: 0.5, momentum: 0.5}
            """;

    private static ExperimentConfig config(Map<String, String> overrides) {
        return ConfigLoader.applyOverrides(ConfigLoader.parse(YAML, "test.yaml"), overrides);
    }

    record Outcome(float[] parameters, double epsilon, long steps, List<Integer> batchSizes) {}

    private static Outcome single(ExperimentConfig c) {
        int n = TRAIN.size();
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, LogisticRegressionModel.zeros(SHAPE, 3))
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {})
                .sampling(RandomSources.counterBased(c.seed(), n, 0, n, s -> {}))
                .build()) {
            List<Integer> sizes = new ArrayList<>();
            while (t.canStep()) sizes.add(t.step().batchSize());
            return new Outcome(t.parameters(), t.epsilon(), t.stepsDone(), sizes);
        }
    }

    /** Rank {@code comm.rank()}'s whole run; {@code model} is its backend. */
    private static Outcome rank(ExperimentConfig c, Communicator comm, TrainableModel model) {
        DataParallel p = new DataParallel(comm, 1);
        p.validate(c);
        Dataset shard = p.shard(TRAIN);
        DpSgdTrainer.Builder b = DpSgdTrainer.builder(c, shard, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {});
        p.configure(b, c, shard, TRAIN.size(), s -> {});
        try (DpSgdTrainer t = b.build()) {
            List<Integer> sizes = new ArrayList<>();
            while (p.continueWithLeader(t.canStep(), t)) {
                var r = p.combine(t.step());
                sizes.add(r.batchSize());
                p.afterStep(r.step(), t);
            }
            p.atEnd(t);
            return new Outcome(t.parameters(), t.epsilon(), t.stepsDone(), sizes);
        }
    }

    private static List<Future<Outcome>> runRanks(
            int w,
            ExperimentConfig c,
            java.util.function.IntFunction<TrainableModel> models,
            ExecutorService pool,
            java.io.PrintStream err) {
        List<Future<Outcome>> out = new ArrayList<>();
        for (Communicator comm : new InProcessGroup(w).ranks()) {
            out.add(pool.submit(() -> {
                try {
                    return rank(c, comm, models.apply(comm.rank()));
                } catch (RuntimeException e) {
                    RankFailure.abort(comm, e, err);
                    throw e;
                }
            }));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void ranksTakeTheSingleProcessStepsToFloatSummationOrder(int w) throws Exception {
        ExperimentConfig c = config(Map.of());
        Outcome ref = single(c);
        ExecutorService pool = Executors.newFixedThreadPool(w);
        try {
            List<Outcome> ranks = new ArrayList<>();
            for (Future<Outcome> f : runRanks(w, c, r -> LogisticRegressionModel.zeros(SHAPE, 3), pool, System.err))
                ranks.add(f.get(120, TimeUnit.SECONDS));
            for (Outcome o : ranks) {
                // Every rank holds the very same parameters (one allreduce result, one update rule).
                assertArrayEquals(ranks.get(0).parameters(), o.parameters());
                assertEquals(ref.steps(), o.steps());
                // Same global batches: the counter sampler makes membership a function of (seed, t, g).
                assertEquals(ref.batchSizes(), o.batchSizes());
                // One ledger entry per logical step with the global q: the same ε.
                assertEquals(ref.epsilon(), o.epsilon(), 0.0);
            }
            // The noisy update equals the single process's up to float32 summation order. σ = 3 makes the
            // noise dominate: adding it on every rank, or dividing by a shard's q·n, would be far off.
            float[] a = ref.parameters();
            float[] b = ranks.get(0).parameters();
            double maxAbs = 0;
            for (float v : a) maxAbs = Math.max(maxAbs, Math.abs(v));
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-5 * Math.max(1, maxAbs), "parameter " + i);
            if (w == 1) assertArrayEquals(a, b, "W = 1 through the reduction is the single-process run bit for bit");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRankThatFailsStopsEveryRankWithItsRankAndCause() throws Exception {
        ExperimentConfig c = config(Map.of());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            java.io.ByteArrayOutputStream lines = new java.io.ByteArrayOutputStream();
            List<Future<Outcome>> fs = runRanks(
                    2,
                    c,
                    r -> r == 1 ? failingAt(6) : LogisticRegressionModel.zeros(SHAPE, 3),
                    pool,
                    new java.io.PrintStream(lines, true));
            ExecutionException leader = org.junit.jupiter.api.Assertions.assertThrows(
                    ExecutionException.class, () -> fs.get(0).get(120, TimeUnit.SECONDS));
            ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
                    ExecutionException.class, () -> fs.get(1).get(120, TimeUnit.SECONDS));
            assertInstanceOf(InProcessGroup.Aborted.class, leader.getCause());
            assertTrue(
                    leader.getCause().getMessage().contains("rank 1 aborted"),
                    leader.getCause().getMessage());
            assertTrue(
                    failed.getCause().getMessage().contains("rank 1 aborted"),
                    failed.getCause().getMessage());
            // The failing rank's one line names it and the cause; rank 0 only reports that rank 1 aborted.
            String printed = lines.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(
                    printed.contains("error: rank 1 of 2 failed: device fault on purpose; stopping all ranks"),
                    printed);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refusesConfigsWhoseMeaningWouldChangeWithW() {
        DataParallel p = new DataParallel(new InProcessGroup(1).ranks().get(0), 1);
        var shuffle = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> p.validate(config(Map.of("privacy.sampling", "shuffle"))));
        assertTrue(shuffle.getMessage().contains("privacy.sampling: shuffle"), shuffle.getMessage());
        var off = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> p.validate(config(Map.of("privacy.enabled", "false"))));
        assertTrue(off.getMessage().contains("privacy.enabled: false"), off.getMessage());
    }

    /**
     * A white-box audit on W ranks: the canaries (fixed here, so both runs hold the same ones) live on rank 0
     * only, are drawn after its shard from their own counter space and join rank 0's sum before the noise and
     * the allreduce. Fast-insecure: the same batches, canaries and parameters as one process with the canaries.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void auditCanariesOnRankZeroGiveTheSingleProcessRun(int w) throws Exception {
        ExperimentConfig c = config(Map.of());
        int n = TRAIN.size();
        int p = Math.toIntExact(
                LogisticRegressionModel.zeros(SHAPE, 3).network().parameterCount());
        int[] coordinates = java.util.stream.IntStream.range(0, 12)
                .map(i -> (i * 7) % p)
                .distinct()
                .toArray();
        boolean[] coins = new boolean[coordinates.length];
        for (int i = 0; i < coins.length; i++) coins[i] = i % 3 != 0; // 8 IN canaries
        org.dpsgd.audit.GradientCanaries canaries = new org.dpsgd.audit.GradientCanaries(coordinates, coins);
        int k = canaries.count();

        float[] withCanaries;
        float[] without;
        try (DpSgdTrainer t = DpSgdTrainer.builder(c, TRAIN, LogisticRegressionModel.zeros(SHAPE, 3))
                .accountants(UnamplifiedRdpAccountant::new)
                .log(s -> {})
                .extraExamples(canaries)
                .sampling(RandomSources.counterBased(c.seed(), n, 0, n, k, s -> {}))
                .build()) {
            while (t.canStep()) t.step();
            withCanaries = t.parameters();
        }
        without = single(c).parameters();

        ExecutorService pool = Executors.newFixedThreadPool(w);
        try {
            List<Future<float[]>> out = new ArrayList<>();
            for (Communicator comm : new InProcessGroup(w).ranks()) {
                out.add(pool.submit(() -> {
                    DataParallel dp = new DataParallel(comm, 1);
                    Dataset shard = dp.shard(TRAIN);
                    DpSgdTrainer.Builder b = DpSgdTrainer.builder(c, shard, LogisticRegressionModel.zeros(SHAPE, 3))
                            .accountants(UnamplifiedRdpAccountant::new)
                            .log(s -> {});
                    int extras = dp.isLeader() ? k : 0;
                    if (dp.isLeader()) b.extraExamples(canaries);
                    dp.configure(b, c, shard, n, extras, s -> {});
                    try (DpSgdTrainer t = b.build()) {
                        while (dp.continueWithLeader(t.canStep(), t)) {
                            var r = t.step();
                            dp.afterStep(r.step(), t);
                        }
                        dp.atEnd(t);
                        return t.parameters();
                    } catch (RuntimeException e) {
                        RankFailure.abort(comm, e, System.err);
                        throw e;
                    }
                }));
            }
            List<float[]> ranks = new ArrayList<>();
            for (Future<float[]> f : out) ranks.add(f.get(120, TimeUnit.SECONDS));
            for (float[] r : ranks) assertArrayEquals(ranks.get(0), r);
            double maxAbs = 0;
            for (float v : withCanaries) maxAbs = Math.max(maxAbs, Math.abs(v));
            for (int i = 0; i < withCanaries.length; i++)
                assertEquals(withCanaries[i], ranks.get(0)[i], 1e-5 * Math.max(1, maxAbs), "parameter " + i);
            // The canaries did something: the run without them ends elsewhere (so this test can fail).
            double diff = 0;
            for (int i = 0; i < without.length; i++) diff = Math.max(diff, Math.abs(without[i] - withCanaries[i]));
            assertTrue(diff > 1e-3, "the canaries changed nothing: " + diff);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void auditCanariesOnAnyRankButZeroAreRefused() {
        ExperimentConfig c = config(Map.of());
        Communicator rank1 = new InProcessGroup(2).ranks().get(1);
        DataParallel dp = new DataParallel(rank1, 1);
        Dataset shard = dp.shard(TRAIN);
        var b = DpSgdTrainer.builder(c, shard, LogisticRegressionModel.zeros(SHAPE, 3));
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> dp.configure(b, c, shard, TRAIN.size(), 3, s -> {}));
        assertTrue(e.getMessage().contains("rank 0 only"), e.getMessage());
    }

    /**
     * GCL under poprun: the device sums every instance's clipped sum itself ({@code deviceGroup} stands for
     * the IPU-Link all-reduce, a collective apart from the host's MPI) and the model says so with
     * {@link GradientScope#RUN}; the host then only shares rank 0's noise. The run must equal the single
     * process; a host that summed the device's global sum again (the model claiming PROCESS) is W times off.
     */
    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void aDeviceSummedGradientIsSharedNotSummedAgain(int w) throws Exception {
        ExperimentConfig c = config(Map.of());
        Outcome ref = single(c);
        for (GradientScope claimed : GradientScope.values()) {
            List<Communicator> deviceGroup = new InProcessGroup(w).ranks();
            ExecutorService pool = Executors.newFixedThreadPool(w);
            try {
                List<Outcome> ranks = new ArrayList<>();
                for (Future<Outcome> f : runRanks(
                        w,
                        c,
                        r -> deviceSummed(LogisticRegressionModel.zeros(SHAPE, 3), deviceGroup.get(r), claimed),
                        pool,
                        System.err)) ranks.add(f.get(120, TimeUnit.SECONDS));
                for (Outcome o : ranks) {
                    assertArrayEquals(ranks.get(0).parameters(), o.parameters());
                    assertEquals(ref.batchSizes(), o.batchSizes());
                    assertEquals(ref.epsilon(), o.epsilon(), 0.0);
                }
                float[] a = ref.parameters();
                float[] b = ranks.get(0).parameters();
                double maxAbs = 0, maxDiff = 0;
                for (float v : a) maxAbs = Math.max(maxAbs, Math.abs(v));
                for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                if (claimed == GradientScope.RUN) {
                    assertTrue(maxDiff <= 1e-5 * Math.max(1, maxAbs), "device-summed run differs by " + maxDiff);
                } else {
                    // The mutant: the host sums the already global sum again (W x every clipped gradient).
                    assertTrue(maxDiff > 1e-2 * Math.max(1, maxAbs), "a double sum went unnoticed: " + maxDiff);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** {@code base} whose drained sum is already summed over {@code device}'s ranks, reporting {@code scope}. */
    private static TrainableModel deviceSummed(LogisticRegressionModel base, Communicator device, GradientScope scope) {
        return new ForwardingTrainableModel(base) {
            @Override
            public GradientScope gradientScope() {
                return scope;
            }

            @Override
            public void drainGradientSum(float[] into) {
                base.drainGradientSum(into);
                device.allreduceSum(into);
            }
        };
    }

    @Test
    void onlyRankZeroDrawsNoise() {
        List<Communicator> ranks = new InProcessGroup(3).ranks();
        assertTrue(new MpiGradientReduction(ranks.get(0)).drawsNoise());
        assertFalse(new MpiGradientReduction(ranks.get(1)).drawsNoise());
        assertFalse(new MpiGradientReduction(ranks.get(2)).drawsNoise());
    }

    /** A backend that fails in its {@code call}-th clipped sum (a device or driver error on one rank). */
    private static TrainableModel failingAt(int call) {
        LogisticRegressionModel base = LogisticRegressionModel.zeros(SHAPE, 3);
        return new ForwardingTrainableModel(base) {
            int calls;

            @Override
            public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
                if (++calls == call) throw new IllegalStateException("device fault on purpose");
                return super.accumulateClipped(batch, clipNorm);
            }
        };
    }
}
