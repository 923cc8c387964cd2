package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingRunTest {
    @TempDir
    Path dir;

    static final String CONFIG = """
            name: tiny
            seed: 7
            model: {name: small-cnn}
            data: {format: synthetic, path: 1x8x8/4, train_limit: 256, test_limit: 64, loader_threads: 1}
            privacy: {clip_norm: 1.0, noise_multiplier: 1.1, delta: 1.0e-5, noise: fast-insecure}
            training: {batch_size: 32, steps: 12, micro_batch_size: 16, log_every: 2, eval_every: 6, checkpoint_every: 4}
            optimizer: {name: sgd, lr: 0.5, momentum: 0.9}
            backend: {name: djl, device: cpu}
            """;

    static TrainingRun.Options quiet() {
        return TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream()));
    }

    @Test
    void aRunRefusedBeforeItsFirstWriteLeavesNoFolderButKeepsAFolderThatHeldFiles() throws IOException {
        ExperimentConfig bad = ConfigLoader.parse(
                CONFIG.replace("format: synthetic, path: 1x8x8/4", "format: idx, path: " + dir.resolve("missing")),
                "test");
        Path fresh = dir.resolve("runs").resolve("fresh");
        assertThrows(RuntimeException.class, () -> TrainingRun.start(bad, fresh, quiet()));
        assertFalse(Files.exists(fresh), "the refused run left its folder behind");
        assertTrue(Files.isDirectory(dir.resolve("runs")), "only the run's own folder is removed");

        Path existing = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(existing.resolve("notes.txt"), "kept");
        assertThrows(RuntimeException.class, () -> TrainingRun.start(bad, existing, quiet()));
        assertEquals("kept", Files.readString(existing.resolve("notes.txt")));
    }

    @Test
    void resumedRunEndsWithTheSameParametersAndChargesTheRepeatedSteps() {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG, "test");
        TrainingRun.Result straight = TrainingRun.start(cfg, dir.resolve("straight"), quiet());
        assertEquals("finished", straight.status());
        assertEquals(12, straight.steps());

        // "Kill" after step 10: the newest checkpoint is step 8, and the final checkpoint is never written.
        TrainingRun.Result killed = TrainingRun.start(cfg, dir.resolve("killed"), quiet().withStopAfter(10));
        assertEquals(10, killed.steps());
        RunDirectory rd = RunDirectory.open(dir.resolve("killed"));
        assertEquals(8, Checkpoints.stepOf(rd.checkpoints().latest().orElseThrow()));
        assertEquals("running", rd.readRunInfo().get("status"));
        assertFalse(RunLock.isHeld(dir.resolve("killed")), "the dead run's lock is gone");

        TrainingRun.Result resumed = TrainingRun.resume(dir.resolve("killed"), quiet());
        assertEquals("finished", resumed.status());
        assertEquals(12, resumed.steps());
        // Seeded noise: the repeated steps 9 and 10 draw the same noise again, so the parameters match...
        assertArrayEquals(straight.parameters(), resumed.parameters(), "parameters differ after resume");
        assertEquals(straight.testAccuracy(), resumed.testAccuracy());
        // ...but steps 9 and 10 were released twice, and both releases are charged.
        assertEquals(14, resumed.stepsCharged());
        assertEquals(Accountants.epsilon(32.0 / 256, 1.1, 14, 1e-5, AccountantKind.RDP), resumed.epsilon(), 1e-9);
        assertTrue(resumed.epsilon() > straight.epsilon());

        // Metrics of the resumed run: each step once, identical test losses to the straight run;
        // the records of the repeated steps are kept aside, not deleted.
        assertEquals(
                1, MetricsLog.read(dir.resolve("killed/metrics-repeated.jsonl")).size(), "the step-10 record");
        List<JsonNode> a = MetricsLog.read(dir.resolve("straight/metrics.jsonl"));
        List<JsonNode> b = MetricsLog.read(dir.resolve("killed/metrics.jsonl"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).get("kind").asText(), b.get(i).get("kind").asText());
            assertEquals(a.get(i).get("step").asLong(), b.get(i).get("step").asLong());
            String key = a.get(i).get("kind").asText().equals("eval") ? "test_loss" : "lr";
            assertEquals(a.get(i).get(key).asDouble(), b.get(i).get(key).asDouble(), 0.0, "record " + i);
        }
        assertEquals(2, rd.checkpoints().list().size(), "only the newest two checkpoints are kept");
    }

    @Test
    void runJsonRecordsProvenanceAndAnIndependentlyCheckedEpsilon() {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG, "test");
        TrainingRun.Result r = TrainingRun.start(cfg, dir.resolve("run"), quiet());
        Map<String, Object> info = RunDirectory.readRunInfo(dir.resolve("run"));
        assertEquals("finished", info.get("status"));
        assertEquals("djl", info.get("backend"));
        assertEquals("cpu", info.get("device"));
        assertEquals("fast-insecure", info.get("noise_mode"));
        assertEquals(
                Boolean.FALSE, info.get("epsilon_holds"), "insecure noise voids the guarantee and run.json says so");
        assertTrue(((Map<?, ?>) ((Map<?, ?>) info.get("provenance")).get("versions")).containsKey("pytorch"));
        // Seeded noise is never drawn ahead, whatever noise_prefetch says.
        assertEquals(
                org.dpsgd.noise.NoisePrefetch.OFF.describe(),
                ((Map<?, ?>) ((Map<?, ?>) info.get("provenance")).get("versions")).get("noise_prefetch"));
        assertEquals(
                org.dpsgd.noise.SamplerPath.description(), ((Map<?, ?>) info.get("provenance")).get("noise_sampler"));
        assertTrue(info.get("started_at") != null && info.get("ended_at") != null);
        // ε recomputed from (q, σ, T) by the accountant directly
        double expected = Accountants.epsilon(32.0 / 256, 1.1, 12, 1e-5, AccountantKind.RDP);
        assertEquals(expected, r.epsilon(), 1e-9);
        assertEquals(expected, ((Number) ((Map<?, ?>) info.get("final")).get("epsilon")).doubleValue(), 1e-9);
        // config_yaml loads back to the same config
        assertEquals(cfg, ConfigLoader.parse((String) info.get("config_yaml"), "run.json"));
        List<JsonNode> m = MetricsLog.read(dir.resolve("run/metrics.jsonl"));
        assertEquals(6 + 2, m.size(), "6 train records (every 2 steps) + evals at steps 6 and 12");
    }

    @Test
    void targetEpsilonIsCalibratedAndNeverExceeded() {
        ExperimentConfig cfg =
                ConfigLoader.parse(CONFIG.replace("noise_multiplier: 1.1", "target_epsilon: 2.0"), "test");
        TrainingRun.Result r = TrainingRun.start(cfg, dir.resolve("run"), quiet());
        assertEquals(12, r.steps());
        assertTrue(r.epsilon() <= 2.0, "ε " + r.epsilon());
        assertTrue(r.epsilon() > 1.9, "σ is calibrated tightly, ε " + r.epsilon());
        Map<String, Object> info = RunDirectory.readRunInfo(dir.resolve("run"));
        double sigma = ((Number) info.get("noise_multiplier")).doubleValue();
        assertEquals(r.epsilon(), Accountants.epsilon(32.0 / 256, sigma, 12, 1e-5, AccountantKind.RDP), 1e-9);
    }

    @Test
    void corruptCheckpointStopsTheResumeWithAClearError() throws IOException {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG, "test");
        TrainingRun.start(cfg, dir.resolve("run"), quiet().withStopAfter(5));
        Path ckpt = RunDirectory.open(dir.resolve("run")).checkpoints().latest().orElseThrow();
        byte[] bytes = Files.readAllBytes(ckpt);
        bytes[bytes.length / 2] ^= 1;
        Files.write(ckpt, bytes);
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> TrainingRun.resume(dir.resolve("run"), quiet()));
        assertTrue(
                e.getMessage().contains("corrupt")
                        && e.getMessage().contains(ckpt.getFileName().toString()),
                e.getMessage());
        assertFalse(
                "finished".equals(RunDirectory.readRunInfo(dir.resolve("run")).get("status")));
    }

    @Test
    void aRunWithAnAuditSectionCarriesTheAuditAndCannotBeResumed() {
        ExperimentConfig cfg = ConfigLoader.parse(CONFIG + "audit: {canaries: 40}\n", "test");
        TrainingRun.Result r = TrainingRun.start(cfg, dir.resolve("audited"), quiet());
        assertEquals("finished", r.status());
        double lower = ((Number) r.audit().get("epsilon_lower")).doubleValue();
        assertTrue(lower <= r.epsilon(), "ε_lower " + lower + " > ε " + r.epsilon());
        Map<?, ?> fin =
                (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("audited")).get("final");
        assertEquals(lower, ((Number) fin.get("epsilon_lower")).doubleValue());
        assertTrue(Files.exists(dir.resolve("audited/audit.json")));
        org.dpsgd.report.RunSummary summary = org.dpsgd.report.RunLoader.fromRunDir(dir.resolve("audited"));
        assertEquals(lower, summary.epsilonLower());
        org.dpsgd.report.HtmlReport.write(List.of(summary), dir.resolve("report.html"));
        String html = assertDoesNotThrow(() -> Files.readString(dir.resolve("report.html")));
        assertTrue(
                html.contains("audited ε_lower") && html.contains(String.format(java.util.Locale.ROOT, "%.3f", lower)),
                "ε_lower in the runs table");
        assertTrue(html.contains("Audited lower bound against reported ε"), "the audit chart");
        TrainingRun.start(cfg, dir.resolve("stopped"), quiet().withStopAfter(5));
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> TrainingRun.resume(dir.resolve("stopped"), quiet()));
        assertTrue(e.getMessage().contains("audited run cannot be resumed"), e.getMessage());
    }
}
