package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.report.Csv;
import org.dpsgd.run.RunDirectory;
import org.dpsgd.sampling.SamplingMode;
import org.dpsgd.testing.ConsoleCapture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandsTest {
    @TempDir
    Path dir;

    static final String TINY = """
            name: tiny
            seed: 3
            model: {name: small-cnn}
            data: {format: synthetic, path: 1x8x8/3, train_limit: 128, test_limit: 32, loader_threads: 1}
            privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1.0e-5, noise: fast-insecure}
            training: {batch_size: 16, steps: 3, micro_batch_size: 16, log_every: 1}
            optimizer: {name: sgd, lr: 0.1}
            backend: {name: djl, device: cpu}
            """;

    /** Runs the CLI and returns [exit code, stdout, stderr]. */
    static Object[] cli(String... args) {
        ConsoleCapture c = ConsoleCapture.run(() -> Main.run(args));
        return new Object[] {c.code(), c.out(), c.err()};
    }

    @Test
    void sweepRunsTheGridAndCompareReadsItsCsv() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, TINY);
        Object[] r = cli(
                "sweep",
                cfg.toString(),
                "--set",
                "training.micro_batch_size=4,16",
                "--set",
                "optimizer.lr=0.2",
                "--out",
                dir.resolve("sw").toString());
        assertEquals(0, r[0], (String) r[2]);
        List<List<String>> lines = Csv.read(dir.resolve("sw/sweep.csv"));
        assertEquals(3, lines.size(), lines.toString());
        List<String> header = lines.get(0);
        assertEquals(List.of("training.micro_batch_size", "optimizer.lr"), header.subList(0, 2));
        double expectedEps = Accountants.epsilon(16.0 / 128, 1.0, 3, 1e-5, AccountantKind.RDP);
        for (int i = 1; i < 3; i++) {
            List<String> row = lines.get(i);
            assertEquals("finished", row.get(header.indexOf("status")));
            assertEquals(expectedEps, Double.parseDouble(row.get(header.indexOf("epsilon"))), 1e-9);
            Path runDir = dir.resolve("sw").resolve(row.get(header.indexOf("run_dir")));
            Map<String, Object> info = RunDirectory.readRunInfo(runDir);
            @SuppressWarnings("unchecked")
            Map<String, Object> layout = (Map<String, Object>) info.get("layout");
            assertEquals(
                    Integer.parseInt(row.get(0)),
                    ((Number) layout.get("micro_batch_size")).intValue(),
                    "the swept value reached the run");
        }
        Object[] c = cli(
                "compare",
                dir.resolve("sw/sweep.csv").toString(),
                "--out",
                dir.resolve("rep/report.html").toString());
        assertEquals(0, c[0], (String) c[2]);
        String html = Files.readString(dir.resolve("rep/report.html"));
        for (int i = 1; i < 3; i++) assertTrue(html.contains(lines.get(i).get(header.indexOf("run_dir"))));
        assertTrue(Files.exists(dir.resolve("rep/report-accuracy-vs-step.png")));
    }

    @Test
    void trainThenResumeFromTheCommandLine() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, TINY);
        Object[] r = cli(
                "train",
                "--config",
                cfg.toString(),
                "--set",
                "training.checkpoint_every=2",
                "--out",
                dir.resolve("run").toString());
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("finished: 3/3 steps"), (String) r[1]);
        assertTrue(((String) r[2]).contains("INSECURE"), "the insecure-noise warning is shown");
        Object[] again = cli(
                "train", "--config", cfg.toString(), "--out", dir.resolve("run").toString());
        assertEquals(2, again[0]);
        assertTrue(((String) again[2]).contains("--resume"), (String) again[2]);
        Object[] res = cli("train", "--resume", dir.resolve("run").toString());
        assertEquals(0, res[0], (String) res[2]);
        Object[] bad = cli("train", "--config", dir.resolve("missing.yaml").toString());
        assertEquals(2, bad[0]);
        assertTrue(
                ((String) bad[2]).startsWith("error: ") && ((String) bad[2]).contains("missing.yaml"), (String) bad[2]);
    }

    /** The demo's own code path on a small slice of Fashion-MNIST (the full recipe takes minutes). */
    @Test
    void demoJsonOnASmallSlice() throws Exception {
        Assumptions.assumeTrue(
                Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")), "Fashion-MNIST is not installed");
        Object[] r = cli(
                "demo",
                "--json",
                "--out",
                dir.resolve("demo").toString(),
                "--set",
                "data.train_limit=2048",
                "--set",
                "data.test_limit=256",
                "--set",
                "training.batch_size=256",
                "--set",
                "training.epochs=1",
                "--set",
                "training.eval_every=0",
                "--set",
                "training.checkpoint_every=0",
                "--set",
                "training.ema=0.5");
        assertEquals(0, r[0], (String) r[2]);
        String[] lines = ((String) r[1]).trim().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        assertEquals(List.of("test_accuracy", "epsilon", "delta", "steps", "seconds"), iterableToList(j.fieldNames()));
        assertEquals(8, j.get("steps").asInt());
        assertTrue(j.get("epsilon").asDouble() <= 3.0 && j.get("epsilon").asDouble() > 2.9, j.toString());
        assertEquals(1e-5, j.get("delta").asDouble());
        assertTrue(j.get("test_accuracy").asDouble() > 0.3, "a few private steps already beat chance (10%): " + j);
        assertTrue(
                ((String) r[1]).contains("(EMA parameters)"),
                "with EMA in the recipe the EMA model's accuracy is reported");
        Map<String, Object> info = RunDirectory.readRunInfo(dir.resolve("demo"));
        assertEquals("secure", info.get("noise_mode"));
        assertEquals("poisson", info.get("sampling"));
        assertEquals(Boolean.TRUE, info.get("epsilon_holds"));
        Map<?, ?> fin = (Map<?, ?>) info.get("final");
        assertEquals(
                ((Number) fin.get("ema_test_accuracy")).doubleValue(),
                j.get("test_accuracy").asDouble(),
                0.0);
        assertEquals(
                ((Number) fin.get("epsilon")).doubleValue(), j.get("epsilon").asDouble(), 0.0);
    }

    @Test
    void demoRecipeIsTheConfigFile() throws Exception {
        Path file = Path.of(System.getProperty("user.dir")).resolve("configs/fashion-mnist-eps3.yaml");
        try (var in = DemoCommand.class.getResourceAsStream(DemoCommand.RECIPE)) {
            assertEquals(
                    Files.readString(file),
                    new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    "experiments/src/main/resources/demo/fashion-mnist-eps3.yaml must equal experiments/configs/fashion-mnist-eps3.yaml");
        }
        assertEquals(3.0, DemoCommand.recipe().privacy().targetEpsilon());
        assertEquals(SamplingMode.POISSON, DemoCommand.recipe().privacy().sampling());
        assertEquals(NoiseMode.SECURE, DemoCommand.recipe().privacy().noise());
    }

    @Test
    void sweepGridIsTheCartesianProduct() {
        var grid = SweepCommand.parseGrid(List.of("a.x=1,2,3", "b.y=p,q"));
        var points = SweepCommand.cartesian(grid);
        assertEquals(6, points.size());
        assertEquals(Map.of("a.x", "1", "b.y", "p"), points.get(0));
        assertEquals(Map.of("a.x", "3", "b.y", "q"), points.get(5));
        assertEquals(6, points.stream().distinct().count());
        assertEquals("002_x-1_y-q", SweepCommand.runName(1, points.get(1)));
    }

    @Test
    void zipPairsValuesByPosition() {
        var points = SweepCommand.zipped(
                SweepCommand.parseGrid(List.of("training.batch_size=1024,4096", "privacy.noise_multiplier=0.8,3.2")));
        assertEquals(
                List.of(
                        Map.of("training.batch_size", "1024", "privacy.noise_multiplier", "0.8"),
                        Map.of("training.batch_size", "4096", "privacy.noise_multiplier", "3.2")),
                points);
        assertEquals(
                2,
                SweepCommand.zipped(SweepCommand.parseGrid(List.of("a.b=1,2", "c.d=7")))
                        .size(),
                "one value is a fixed override");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> SweepCommand.zipped(SweepCommand.parseGrid(List.of("a.b=1,2", "c.d=1,2,3"))));
        assertTrue(e.getMessage().contains("same number"), e.getMessage());
    }

    private static List<String> iterableToList(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
