package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.distributed.Communicator;
import org.dpsgd.distributed.DataParallel;
import org.dpsgd.distributed.InProcessGroup;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A W = 2 run with rank 0 in {@link TrainingRun} and rank 1 in {@link FollowerRun}, on two threads
 * ({@link InProcessGroup}, no MPI needed), against the single-process run of the same config: the same
 * steps, ε and metrics, parameters equal to float32 summation order, one run folder; a run checkpointed
 * by one process resumes on two ranks with the ε of an uninterrupted run.
 */
class DataParallelRunTest {
    @TempDir
    Path dir;

    static final String CONFIG = TrainingRunTest.CONFIG;

    static TrainingRun.Options quiet() {
        return TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream()));
    }

    /** Rank 0's result of a W-rank run: {@code leader} runs on rank 0, followers on the others. */
    static TrainingRun.Result onRanks(
            int w,
            java.util.function.Function<TrainingRun.Options, TrainingRun.Result> leader,
            TrainingRun.Options opts)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(w);
        try {
            List<Communicator> ranks = new InProcessGroup(w).ranks();
            Future<TrainingRun.Result> lead = null;
            List<Future<float[]>> followers = new java.util.ArrayList<>();
            for (Communicator c : ranks) {
                DataParallel p = new DataParallel(c, 1);
                if (p.isLeader()) lead = pool.submit(() -> leader.apply(opts.withParallel(p)));
                else followers.add(pool.submit(() -> FollowerRun.run(p, opts.withParallel(p))));
            }
            TrainingRun.Result r = lead.get(300, TimeUnit.SECONDS);
            for (Future<float[]> f : followers) {
                // Every rank ends with rank 0's parameters bit for bit.
                org.junit.jupiter.api.Assertions.assertArrayEquals(r.parameters(), f.get(300, TimeUnit.SECONDS));
            }
            return r;
        } finally {
            pool.shutdownNow();
        }
    }

    static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * Math.max(1, Math.abs(expected[i])), "parameter " + i);
        }
    }

    @Test
    void twoRanksReproduceTheSingleProcessRunAndOnlyRankZeroWrites() throws Exception {
        // Raw diagnostics on, so that the metrics hold the realised batch sizes and losses to compare.
        ExperimentConfig cfg = ConfigLoader.parse(
                CONFIG.replace("noise: fast-insecure}", "noise: fast-insecure, diagnostics: raw}"), "test");
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), quiet());
        TrainingRun.Result two = onRanks(2, o -> TrainingRun.start(cfg, dir.resolve("two"), o), quiet());

        assertEquals("finished", two.status());
        assertEquals(single.steps(), two.steps());
        assertEquals(single.epsilon(), two.epsilon(), 0.0, "one ledger, W-independent");
        assertClose(single.parameters(), two.parameters());

        Map<String, Object> info = RunDirectory.readRunInfo(dir.resolve("two"));
        assertEquals(2, ((Map<?, ?>) info.get("distributed")).get("ranks"));
        // Each rank's own checks of its host and model before the first step, the follower's included.
        List<?> checks = (List<?>) info.get("rank_checks");
        assertEquals(2, checks.size());
        Map<?, ?> lead = (Map<?, ?>) checks.get(0);
        Map<?, ?> follower = (Map<?, ?>) checks.get(1);
        assertEquals(0, lead.get("rank"));
        assertEquals(1, follower.get("rank"));
        assertTrue(follower.get("slot_invariance_model") != null, follower.toString());
        // One JVM, one model, synthetic examples: the follower's check finds what rank 0's does.
        assertEquals(lead.get("slot_invariance_model"), follower.get("slot_invariance_model"));
        assertEquals(
                256,
                ((Map<?, ?>) info.get("dataset")).get("train_size"),
                "the run describes the whole training set, not a shard");
        assertEquals(
                info.get("sampling_rate"),
                RunDirectory.readRunInfo(dir.resolve("single")).get("sampling_rate"));

        // Metrics are of the whole logical batch (summed over ranks): the same realised batch sizes as one process.
        List<JsonNode> a = MetricsLog.read(dir.resolve("single/metrics.jsonl"));
        List<JsonNode> b = MetricsLog.read(dir.resolve("two/metrics.jsonl"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).get("kind").asText().equals("train")) {
                assertEquals(
                        a.get(i).get("batch_size").asLong(),
                        b.get(i).get("batch_size").asLong(),
                        "record " + i);
                assertEquals(
                        a.get(i).get("loss").asDouble(), b.get(i).get("loss").asDouble(), 1e-4, "record " + i);
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(
                    List.of("single", "two"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "followers write nothing");
        }
    }

    /**
     * A white-box audit on two ranks (canaries on rank 0 only, drawn after its shard, added before the noise
     * and the allreduce): the run finishes with one audit.json, ε_lower ≤ ε and the single process's ε. With σ
     * tiny the canaries' signal must reach the released parameters on W = 2 as on W = 1: both audits find
     * a clear lower bound (canaries lost on the way would leave coin-flip guesses, ε_lower ≈ 0).
     */
    @Test
    void aWhiteBoxAuditRunsOnTwoRanksWithItsCanariesOnRankZero() throws Exception {
        String audited = CONFIG + "audit: {canaries: 40}\n";
        ExperimentConfig cfg = ConfigLoader.parse(audited, "test");
        TrainingRun.Result two = onRanks(2, o -> TrainingRun.start(cfg, dir.resolve("two"), o), quiet());
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), quiet());
        assertEquals("finished", two.status());
        assertEquals(single.epsilon(), two.epsilon(), 0.0);
        double lower = ((Number) two.audit().get("epsilon_lower")).doubleValue();
        assertTrue(lower <= two.epsilon(), "ε_lower " + lower + " > ε " + two.epsilon());
        assertTrue(Files.exists(dir.resolve("two/audit.json")));

        // 60 steps at q = 1/8: an IN canary goes unsampled with probability 0.875^60 < 1e-3.
        ExperimentConfig tiny = ConfigLoader.parse(
                audited.replace("noise_multiplier: 1.1", "noise_multiplier: 0.02")
                        .replace("steps: 12", "steps: 60"),
                "t");
        TrainingRun.Result tinyTwo = onRanks(2, o -> TrainingRun.start(tiny, dir.resolve("tiny2"), o), quiet());
        TrainingRun.Result tinyOne = TrainingRun.start(tiny, dir.resolve("tiny1"), quiet());
        double l2 = ((Number) tinyTwo.audit().get("epsilon_lower")).doubleValue();
        double l1 = ((Number) tinyOne.audit().get("epsilon_lower")).doubleValue();
        double ceiling = org.dpsgd.audit.PrivacyAudit.ceiling(
                40, org.dpsgd.audit.GuessRule.defaultFor(40), 1e-5, cfg.audit().confidence());
        // Canaries that never reach the sum leave coin-flip guesses: ε_lower ≈ 0. Seen here: 0.7–1.8 for W = 1
        // and 2 (the real data's gradients share the canaries' coordinates, so not every guess is right).
        assertTrue(l1 > 0.3 * ceiling, "W = 1 at σ = 0.02: ε_lower " + l1 + ", ceiling " + ceiling);
        assertTrue(l2 > 0.3 * ceiling, "W = 2 at σ = 0.02: ε_lower " + l2 + ", ceiling " + ceiling);
    }

    /**
     * Black-box input canaries on two ranks: rank 0 alone clips them with its backend and adds them to its
     * sum; the run finishes with one audit.json, ε_lower ≤ ε and the single process's ε, and the evaluation
     * leaves the canaries' test images out as in one process.
     */
    @Test
    void aBlackBoxAuditRunsOnTwoRanks() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG + "audit: {canaries: 20, kind: blackbox}\n", "test");
        TrainingRun.Result two = onRanks(2, o -> TrainingRun.start(cfg, dir.resolve("two"), o), quiet());
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), quiet());
        assertEquals("finished", two.status());
        assertEquals(single.epsilon(), two.epsilon(), 0.0);
        double lower = ((Number) two.audit().get("epsilon_lower")).doubleValue();
        assertTrue(lower <= two.epsilon(), "ε_lower " + lower + " > ε " + two.epsilon());
        assertTrue(Files.exists(dir.resolve("two/audit.json")));
        assertEquals("blackbox", two.audit().get("kind"));
    }

    /**
     * The f-DP audit bound needs a full batch of the whole run: q = B/N with N of the whole set, never of
     * rank 0's shard (B = 200 covers rank 0's 128 examples but not the 256 of the run).
     */
    /**
     * A follower that cannot open its session (here: its own --device names a GPU this host lacks; a slot check
     * refusing under require takes the same path) ends the job with its one line while rank 0 waits for the ranks'
     * checks: rank 0 is not left waiting.
     */
    @Test
    void aFollowerThatCannotOpenEndsTheJobWhileRankZeroWaitsForTheChecks() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG, "test");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Communicator> ranks = new InProcessGroup(2).ranks();
            java.io.ByteArrayOutputStream lines = new java.io.ByteArrayOutputStream();
            PrintStream sink = new PrintStream(lines, true, java.nio.charset.StandardCharsets.UTF_8);
            Future<TrainingRun.Result> lead = pool.submit(() -> TrainingRun.start(
                    cfg, dir.resolve("lead"), quiet().withParallel(new DataParallel(ranks.get(0), 1))));
            Future<float[]> follower = pool.submit(() -> {
                DataParallel p = new DataParallel(ranks.get(1), 1);
                TrainingRun.Options q = quiet();
                TrainingRun.Options gpu =
                        new TrainingRun.Options(q.backend(), "gpu:99", q.out(), q.err(), q.progress(), null, null, p);
                try {
                    return FollowerRun.run(p, gpu);
                } catch (RuntimeException e) {
                    org.dpsgd.distributed.RankFailure.abort(ranks.get(1), e, sink);
                    throw e;
                }
            });
            org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> follower.get(120, TimeUnit.SECONDS));
            org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> lead.get(120, TimeUnit.SECONDS));
            String line = lines.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(line.startsWith("error: rank 1 of 2 failed: "), line);
            assertEquals(1, line.lines().count(), line);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theFdpAuditBoundJudgesTheWholeRunsBatchNotRankZerosShard() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(
                CONFIG.replace("batch_size: 32", "batch_size: 200") + "audit: {canaries: 40, bound: fdp}\n", "test");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Communicator> ranks = new InProcessGroup(2).ranks();
            java.io.ByteArrayOutputStream lines = new java.io.ByteArrayOutputStream();
            PrintStream sink = new PrintStream(lines, true, java.nio.charset.StandardCharsets.UTF_8);
            Future<TrainingRun.Result> lead = pool.submit(() -> {
                try {
                    return TrainingRun.start(
                            cfg, dir.resolve("fdp"), quiet().withParallel(new DataParallel(ranks.get(0), 1)));
                } catch (RuntimeException e) {
                    org.dpsgd.distributed.RankFailure.abort(ranks.get(0), e, sink);
                    throw e;
                }
            });
            Future<float[]> follower = pool.submit(() -> {
                DataParallel p = new DataParallel(ranks.get(1), 1);
                return FollowerRun.run(p, quiet().withParallel(p));
            });
            var e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> lead.get(120, TimeUnit.SECONDS));
            // Rank 0's one line (the in-process group then aborts every rank, as MPI_Abort would).
            String line = lines.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(line.contains("error: rank 0 of 2 failed: audit.bound: fdp"), line);
            assertTrue(line.contains("q = 200/256 < 1"), line);
            assertTrue(e.getCause() != null);
            org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> follower.get(120, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void sigmaForATargetEpsilonIsCalibratedOnTheWholeTrainingSetNotAShard() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(
                CONFIG.replace("noise_multiplier: 1.1", "target_epsilon: 2.0").replace("steps: 12", "steps: 4"),
                "test");
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), quiet());
        TrainingRun.Result two = onRanks(2, o -> TrainingRun.start(cfg, dir.resolve("two"), o), quiet());
        Map<String, Object> a = RunDirectory.readRunInfo(dir.resolve("single"));
        Map<String, Object> b = RunDirectory.readRunInfo(dir.resolve("two"));
        // q = 32/256 and T of the whole set; a shard's q = 32/128 would give another σ.
        assertEquals(a.get("noise_multiplier"), b.get("noise_multiplier"));
        assertEquals(a.get("calibrated_epsilon"), b.get("calibrated_epsilon"));
        assertEquals(single.epsilon(), two.epsilon(), 0.0);
        assertTrue(two.epsilon() <= 2.0);
    }

    @Test
    void twoRanksReproduceAReducedResnet18GnRun() throws Exception {
        String yaml = CONFIG.replace("model: {name: small-cnn}", "model: {name: resnet18-gn, stem: cifar}")
                .replace(
                        "path: 1x8x8/4, train_limit: 256, test_limit: 64",
                        "path: 3x8x8/4, train_limit: 48, test_limit: 8")
                .replace(
                        "batch_size: 32, steps: 12, micro_batch_size: 16, log_every: 2, eval_every: 6, checkpoint_every: 4",
                        "batch_size: 8, steps: 3, micro_batch_size: 8, log_every: 1, eval_every: 0, checkpoint_every: 0")
                .replace("lr: 0.5", "lr: 0.1");
        ExperimentConfig cfg = ConfigLoader.parse(yaml, "test");
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), quiet());
        TrainingRun.Result two = onRanks(2, o -> TrainingRun.start(cfg, dir.resolve("two"), o), quiet());
        assertEquals(3, two.steps());
        assertEquals(single.epsilon(), two.epsilon(), 0.0);
        assertClose(single.parameters(), two.parameters());
    }

    @Test
    void oneProcessContinuingATwoRankRunDropsTheRanksEntries() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG, "test");
        onRanks(2, o -> TrainingRun.start(cfg, dir.resolve("two"), o), quiet().withStopAfter(10));
        Map<String, Object> before = RunDirectory.readRunInfo(dir.resolve("two"));
        assertTrue(
                before.containsKey("rank_checks") && before.containsKey("distributed"),
                before.keySet().toString());
        assertEquals("finished", TrainingRun.resume(dir.resolve("two"), quiet()).status());
        Map<String, Object> after = RunDirectory.readRunInfo(dir.resolve("two"));
        assertTrue(
                !after.containsKey("rank_checks") && !after.containsKey("distributed"),
                after.keySet().toString());
    }

    @Test
    void aSingleProcessCheckpointResumesOnTwoRanksAsItWouldInOneProcess() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG, "test");
        // Two identical runs "killed" after step 10 (newest checkpoint: step 8; the ledger holds 10 steps).
        TrainingRun.start(cfg, dir.resolve("one"), quiet().withStopAfter(10));
        TrainingRun.start(cfg, dir.resolve("two"), quiet().withStopAfter(10));
        TrainingRun.Result one = TrainingRun.resume(dir.resolve("one"), quiet());
        TrainingRun.Result two = onRanks(2, o -> TrainingRun.resume(dir.resolve("two"), o), quiet());
        assertEquals("finished", two.status());
        assertEquals(one.steps(), two.steps());
        // The ledger is rank 0's write-ahead journal: steps 9 and 10 stay charged whatever W resumes them.
        assertEquals(14, two.stepsCharged());
        assertEquals(one.epsilon(), two.epsilon(), 0.0);
        // Steps 9–12 are sampled from the checkpoint's counter position, so even the parameters agree.
        assertClose(one.parameters(), two.parameters());
        assertTrue(RunDirectory.readRunInfo(dir.resolve("two")).containsKey("resumed_at"));
        // Resuming the finished run on two ranks changes nothing and ends on every rank (rank 0 tells the follower).
        TrainingRun.Result again = onRanks(2, o -> TrainingRun.resume(dir.resolve("two"), o), quiet());
        assertEquals("finished", again.status());
        assertEquals(two.steps(), again.steps());
        assertEquals(two.epsilon(), again.epsilon(), 0.0);
        try (var files = Files.list(dir)) {
            assertEquals(
                    List.of("one", "two"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "followers write nothing");
        }
    }

    /** Writes IDX image + label files (gzipped) of n random 8x8 images. */
    private static void writeIdx(Path folder, String prefix, int n, java.util.Random r) throws java.io.IOException {
        byte[] px = new byte[n * 64];
        r.nextBytes(px);
        try (var out = new java.io.DataOutputStream(new java.util.zip.GZIPOutputStream(
                Files.newOutputStream(folder.resolve(prefix + "-images-idx3-ubyte.gz"))))) {
            out.writeInt(0x803);
            out.writeInt(n);
            out.writeInt(8);
            out.writeInt(8);
            out.write(px);
        }
        try (var out = new java.io.DataOutputStream(new java.util.zip.GZIPOutputStream(
                Files.newOutputStream(folder.resolve(prefix + "-labels-idx1-ubyte.gz"))))) {
            out.writeInt(0x801);
            out.writeInt(n);
            for (int i = 0; i < n; i++) out.writeByte(r.nextInt(10));
        }
    }

    @Test
    void threeRanksReadingOnlyTheirIdxByteRangesReproduceTheSingleProcessRun() throws Exception {
        Path data = Files.createDirectories(dir.resolve("idx"));
        java.util.Random r = new java.util.Random(3);
        writeIdx(data, "train", 100, r); // 100 = 33 + 33 + 34: uneven shards
        writeIdx(data, "t10k", 16, r);
        ExperimentConfig cfg = ConfigLoader.parse(
                CONFIG.replace(
                                "data: {format: synthetic, path: 1x8x8/4, train_limit: 256, test_limit: 64, loader_threads: 1}",
                                "data: {format: idx, path: '" + data + "', loader_threads: 1}")
                        .replace("steps: 12", "steps: 4"),
                "test");
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), quiet());
        TrainingRun.Result three = onRanks(3, o -> TrainingRun.start(cfg, dir.resolve("three"), o), quiet());
        assertEquals("finished", three.status());
        assertEquals(4, three.steps());
        assertEquals(single.epsilon(), three.epsilon(), 0.0, "q = 32/100 of the whole file, from its header");
        assertClose(single.parameters(), three.parameters());
        Map<?, ?> a =
                (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("single")).get("dataset");
        Map<?, ?> b = (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("three")).get("dataset");
        assertEquals(100, b.get("train_size"));
        assertEquals(a.get("train"), b.get("train"), "rank 0 describes the whole file, not its shard");
    }
}
