package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.distributed.Mpi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: {@code mpirun -np 2 java ... dpsgd train} over loopback, against the single-process run
 * of the same tiny config (fast-insecure, so both sample the same batches): same steps and ε, parameters
 * equal to float32 summation order; and a single-process run's checkpoint resumed by two MPI ranks.
 * Skipped, with the reason, where mpirun is missing or the MPI binding was not built.
 */
class MpiTrainIntegrationTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsMpi() {
        assumeTrue(
                mpirun() != null,
                "mpirun not on PATH: MPI training integration skipped (Debian: apt-get install openmpi-bin libopenmpi-dev)");
        assumeTrue(
                Mpi.availability().isEmpty(),
                () -> "MPI binding not built: " + Mpi.availability().orElse(""));
    }

    static String mpirun() {
        String path = System.getenv("PATH");
        if (path == null) return null;
        return Arrays.stream(path.split(File.pathSeparator))
                .map(d -> Path.of(d, "mpirun"))
                .filter(Files::isExecutable)
                .map(Path::toString)
                .findFirst()
                .orElse(null);
    }

    record Outcome(int code, String output) {}

    /** {@code mpirun -np 2 java -cp <this test's classpath> org.dpsgd.cli.Main args...}, one DJL thread per rank. */
    static Outcome dpsgdOnTwoRanks(String... args) throws Exception {
        return dpsgdOnRanks(2, args);
    }

    /** {@code mpirun -np w java -cp <this test's classpath> org.dpsgd.cli.Main args...}, one DJL thread per rank. */
    static Outcome dpsgdOnRanks(int w, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(mpirun(), "-np", Integer.toString(w), "--oversubscribe"));
        if ("root".equals(System.getProperty("user.name"))) cmd.add("--allow-run-as-root");
        cmd.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                System.getProperty("java.class.path"),
                "org.dpsgd.cli.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("mpirun did not finish: " + out);
        }
        return new Outcome(p.exitValue(), out);
    }

    static float[] finalParameters(Path run) {
        Path latest = RunDirectory.open(run).checkpoints().latest().orElseThrow();
        return CheckpointPayload.decode(Checkpoints.load(latest).payload(), latest.toString())
                .trainer()
                .parameters();
    }

    @Test
    void twoMpiRanksReproduceTheSingleProcessRun() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(TrainingRunTest.CONFIG, "test");
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), DataParallelRunTest.quiet());
        Path yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, TrainingRunTest.CONFIG);
        Outcome o = dpsgdOnTwoRanks(
                "train",
                "--config",
                yaml.toString(),
                "--out",
                dir.resolve("mpi").toString(),
                "--check-every",
                "1");
        assertEquals(0, o.code(), o.output());
        assertTrue(o.output().contains("data-parallel run: 2 rank(s)"), o.output());
        Map<String, Object> info = RunDirectory.readRunInfo(dir.resolve("mpi"));
        assertEquals("finished", info.get("status"));
        Map<?, ?> fin = (Map<?, ?>) info.get("final");
        assertEquals(single.steps(), ((Number) fin.get("step")).longValue());
        assertEquals(single.epsilon(), ((Number) fin.get("epsilon")).doubleValue(), 0.0);
        DataParallelRunTest.assertClose(single.parameters(), finalParameters(dir.resolve("mpi")));
    }

    /**
     * W = 4 (oversubscribed on CI's cores): the same global batches (realised sizes and losses from the raw
     * diagnostics), the same ε and the single-process parameters to float32 summation order. Measured by hand
     * on a loaded 2-core VM: 1.0e-7 relative; 13-50 s depending on the load (docs/distributed.md).
     */
    @Test
    void fourMpiRanksTakeTheSingleProcessBatchesAndSteps() throws Exception {
        String config = TrainingRunTest.CONFIG
                .replace("noise: fast-insecure}", "noise: fast-insecure, diagnostics: raw}")
                .replace("log_every: 2", "log_every: 1");
        ExperimentConfig cfg = ConfigLoader.parse(config, "test");
        TrainingRun.Result single = TrainingRun.start(cfg, dir.resolve("single"), DataParallelRunTest.quiet());
        Path yaml = dir.resolve("tiny-raw.yaml");
        Files.writeString(yaml, config);
        Outcome o = dpsgdOnRanks(
                4,
                "train",
                "--config",
                yaml.toString(),
                "--out",
                dir.resolve("w4").toString());
        assertEquals(0, o.code(), o.output());
        assertTrue(o.output().contains("data-parallel run: 4 rank(s)"), o.output());
        Map<?, ?> fin = (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("w4")).get("final");
        assertEquals(single.steps(), ((Number) fin.get("step")).longValue());
        assertEquals(single.epsilon(), ((Number) fin.get("epsilon")).doubleValue(), 0.0);
        assertEquals(trainColumn(dir.resolve("single"), "batch_size"), trainColumn(dir.resolve("w4"), "batch_size"));
        List<Object> l1 = trainColumn(dir.resolve("single"), "loss"), l4 = trainColumn(dir.resolve("w4"), "loss");
        assertEquals(l1.size(), l4.size());
        for (int i = 0; i < l1.size(); i++)
            assertEquals(((Number) l1.get(i)).doubleValue(), ((Number) l4.get(i)).doubleValue(), 1e-5, "loss " + i);
        DataParallelRunTest.assertClose(single.parameters(), finalParameters(dir.resolve("w4")));
    }

    /** One column of the train lines of a run's metrics.jsonl, in step order. */
    static List<Object> trainColumn(Path run, String key) throws Exception {
        List<Object> out = new ArrayList<>();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String line : Files.readAllLines(run.resolve(RunDirectory.METRICS))) {
            Map<?, ?> m = json.readValue(line, Map.class);
            if ("train".equals(m.get("kind"))) out.add(m.get(key));
        }
        return out;
    }

    @Test
    void aSingleProcessCheckpointResumesOnTwoMpiRanks() throws Exception {
        ExperimentConfig cfg = ConfigLoader.parse(TrainingRunTest.CONFIG, "test");
        TrainingRun.Result straight = TrainingRun.start(cfg, dir.resolve("straight"), DataParallelRunTest.quiet());
        TrainingRun.start(
                cfg, dir.resolve("killed"), DataParallelRunTest.quiet().withStopAfter(10));
        Outcome o = dpsgdOnTwoRanks("train", "--resume", dir.resolve("killed").toString());
        assertEquals(0, o.code(), o.output());
        Map<?, ?> fin =
                (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("killed")).get("final");
        // Rank 0's write-ahead ledger keeps steps 9 and 10 of the killed run charged: 14 steps in all.
        assertEquals(
                org.dpsgd.accounting.Accountants.epsilon(32.0 / 256, 1.1, 14, 1e-5, AccountantKind.RDP),
                ((Number) fin.get("epsilon")).doubleValue(),
                1e-9);
        DataParallelRunTest.assertClose(straight.parameters(), finalParameters(dir.resolve("killed")));
    }
}
