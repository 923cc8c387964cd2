package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.dpsgd.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * privacy.diagnostics: none (the default) writes nothing computed from the training data except
 * through the DP mechanism. Checked the way an auditor would: two runs on datasets that differ in
 * one example (same seeded noise and batches) leave run folders that differ only in what depends
 * on the parameters (test-set metrics, the parameters themselves) and in timings.
 */
class DiagnosticsPolicyTest {
    @TempDir
    Path dir;

    private static final String CONFIG = """
            name: neighbours
            seed: 11
            model: {name: small-cnn}
            data: {format: idx, path: %s, loader_threads: 1}
            privacy: {clip_norm: 1.0, noise_multiplier: 1.1, delta: 1.0e-5, noise: fast-insecure%s}
            training: {batch_size: 16, steps: 8, micro_batch_size: 8, log_every: 2, eval_every: 4, checkpoint_every: 4}
            optimizer: {name: sgd, lr: 0.5}
            backend: {name: djl, device: cpu}
            """;

    /** Timing fields: they vary between any two runs. */
    private static final Set<String> TIMING = Set.of(
            "time", "steps_per_s", "expected_examples_per_s", "examples_per_s", "seconds", "wall_seconds_this_process");
    /** Metrics of the parameters on the (public) test set. */
    private static final Set<String> THROUGH_PARAMETERS =
            Set.of("test_loss", "test_accuracy", "ema_test_loss", "ema_test_accuracy");

    @Test
    void neighbouringDatasetsLeaveTheSameRecordsExceptThroughTheParameters() throws IOException {
        Path a = run("a", false, false);
        Path b = run("b", true, false);
        List<JsonNode> ma = MetricsLog.read(a.resolve(RunDirectory.METRICS));
        List<JsonNode> mb = MetricsLog.read(b.resolve(RunDirectory.METRICS));
        assertEquals(ma.size(), mb.size());
        boolean parametersDiffer = false;
        for (int i = 0; i < ma.size(); i++) {
            ObjectNode ra = strip(ma.get(i));
            ObjectNode rb = strip(mb.get(i));
            for (String k : THROUGH_PARAMETERS) {
                if (ra.has(k))
                    parametersDiffer |= ra.remove(k).asDouble() != rb.remove(k).asDouble();
            }
            assertEquals(ra, rb, "record " + i);
            assertFalse(
                    ma.get(i).has("loss")
                            || ma.get(i).has("accuracy")
                            || ma.get(i).has("batch_size")
                            || ma.get(i).has("clipped_fraction"),
                    "no training-batch statistic in the default mode: " + ma.get(i));
        }
        assertTrue(parametersDiffer, "the changed example did change the model (else this test proves nothing)");
        assertEquals(Files.readString(a.resolve(TrainingRun.LEDGER)), Files.readString(b.resolve(TrainingRun.LEDGER)));
        for (Path ckpt : RunDirectory.open(a).checkpoints().list()) {
            CheckpointPayload pa =
                    CheckpointPayload.decode(Checkpoints.load(ckpt).payload(), "a");
            CheckpointPayload pb = CheckpointPayload.decode(
                    Checkpoints.load(b.resolve("checkpoints").resolve(ckpt.getFileName()))
                            .payload(),
                    "b");
            assertEquals(pa.examples(), pb.examples(), "the example count is the public expected one");
            assertEquals(
                    Json.MAPPER.writeValueAsString(pa.trainer().sampler()),
                    Json.MAPPER.writeValueAsString(pb.trainer().sampler()));
            assertEquals(pa.trainer().ledger(), pb.trainer().ledger());
        }
        Map<String, Object> ia = RunDirectory.readRunInfo(a);
        Map<String, Object> ib = RunDirectory.readRunInfo(b);
        assertEquals(ia.keySet(), ib.keySet());
        assertEquals("none", ia.get("diagnostics"));
        Map<?, ?> fa = (Map<?, ?>) ia.get("final");
        Map<?, ?> fb = (Map<?, ?>) ib.get("final");
        for (Object k : fa.keySet()) {
            if (!TIMING.contains(k) && !THROUGH_PARAMETERS.contains(k))
                assertEquals(fa.get(k), fb.get(k), "final." + k);
        }
    }

    @Test
    void rawModeWritesTrainingStatisticsMarkedAsNotCovered() throws IOException {
        Path a = run("raw", false, true);
        JsonNode first = MetricsLog.read(a.resolve(RunDirectory.METRICS)).get(0);
        assertTrue(first.has("loss") && first.has("batch_size"), first.toString());
        assertEquals("raw", first.get("diagnostics").asText());
        assertTrue(String.valueOf(RunDirectory.readRunInfo(a).get("diagnostics_note"))
                .contains("NOT covered by ε"));
    }

    private static ObjectNode strip(JsonNode n) {
        ObjectNode o = n.deepCopy();
        TIMING.forEach(o::remove);
        return o;
    }

    private Path run(String name, boolean changeOneExample, boolean raw) throws IOException {
        Path data = dir.resolve(name + "-data");
        Files.createDirectories(data);
        writeIdx(data, "train", 128, changeOneExample);
        writeIdx(data, "t10k", 32, false);
        Path out = dir.resolve(name + "-run");
        TrainingRun.start(
                ConfigLoader.parse(String.format(CONFIG, data, raw ? ", diagnostics: raw" : ""), "test"),
                out,
                TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream())));
        return out;
    }

    /** n 8x8 images in 4 classes; with {@code change}, example 5 gets other pixels and another label. */
    private static void writeIdx(Path folder, String prefix, int n, boolean change) throws IOException {
        Random rng = new Random(prefix.hashCode());
        byte[] pixels = new byte[n * 64];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (byte) (i % 4);
            for (int p = 0; p < 64; p++) pixels[i * 64 + p] = (byte) ((p % 4 == i % 4 ? 200 : 20) + rng.nextInt(30));
        }
        if (change) {
            labels[5] = (byte) ((labels[5] + 1) % 4);
            for (int p = 0; p < 64; p++) pixels[5 * 64 + p] = (byte) 255;
        }
        try (DataOutputStream out =
                new DataOutputStream(Files.newOutputStream(folder.resolve(prefix + "-images-idx3-ubyte")))) {
            out.writeInt(0x803);
            out.writeInt(n);
            out.writeInt(8);
            out.writeInt(8);
            out.write(pixels);
        }
        try (DataOutputStream out =
                new DataOutputStream(Files.newOutputStream(folder.resolve(prefix + "-labels-idx1-ubyte")))) {
            out.writeInt(0x801);
            out.writeInt(n);
            out.write(labels);
        }
        assertNotEquals(0, n);
    }
}
