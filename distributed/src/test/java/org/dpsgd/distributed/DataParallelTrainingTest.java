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
