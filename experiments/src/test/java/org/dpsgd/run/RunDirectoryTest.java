package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void runJsonAndMetricsRoundTrip() {
        RunDirectory rd = RunDirectory.create(dir.resolve("run"));
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("seed", 5);
        info.put("status", "running");
        rd.writeRunInfo(info);
        for (int s = 1; s <= 5; s++) rd.metrics().append(Map.of("kind", "train", "step", s, "loss", 1.0 / s));
        rd.metrics().append(Map.of("kind", "eval", "step", 5, "test_accuracy", Double.NaN));
        rd.metrics().close();
        List<JsonNode> m = MetricsLog.read(rd.metrics().file());
        assertEquals(6, m.size());
        assertEquals(0.25, m.get(3).get("loss").asDouble());
        assertTrue(Double.isNaN(m.get(5).get("test_accuracy").asDouble()));
        assertEquals(
                "running", RunDirectory.open(dir.resolve("run")).readRunInfo().get("status"));
    }

    @Test
    void resumeSetsRecordsAfterTheCheckpointAsideAndKeepsThem() {
        RunDirectory rd = RunDirectory.create(dir.resolve("run"));
        for (int s = 1; s <= 9; s++) rd.metrics().append(Map.of("kind", "train", "step", s));
        rd.metrics().setAsideAfter(4);
        rd.metrics().append(Map.of("kind", "train", "step", 5));
        rd.metrics().close();
        List<JsonNode> m = MetricsLog.read(rd.metrics().file());
        assertEquals(5, m.size());
        assertEquals(5, m.get(4).get("step").asInt());
        List<JsonNode> repeated = MetricsLog.read(rd.metrics().repeatedFile());
        assertEquals(5, repeated.size(), "the released records of steps 5..9 are kept, not deleted");
        assertEquals(9, repeated.get(4).get("step").asInt());
    }

    @Test
    void tornLastLineIsSkipped() throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, "{\"step\":1}\n{\"step\":2}\n{\"ste");
        assertEquals(2, MetricsLog.read(f).size());
    }

    @Test
    void refusesToOverwriteARun() {
        RunDirectory.create(dir).writeRunInfo(Map.of("a", 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.create(dir));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RunDirectory.open(dir.resolve("nothing")));
    }

    @Test
    void provenanceNamesTheMachine() {
        Map<String, Object> p = Provenance.collect(Map.of("djl", "0.36.0"));
        assertEquals(Runtime.getRuntime().availableProcessors(), p.get("cpus"));
        @SuppressWarnings("unchecked")
        Map<String, String> v = (Map<String, String>) p.get("versions");
        assertEquals("0.36.0", v.get("djl"));
        assertTrue(v.get("java").startsWith(System.getProperty("java.version")));
    }

    @Test
    void gitCommitIsReadFromHeadAndPackedRefs() throws IOException {
        Path repo = dir.resolve("repo");
        Files.createDirectories(repo.resolve(".git/refs/heads"));
        Files.writeString(repo.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        Files.writeString(repo.resolve(".git/packed-refs"), "# pack-refs\nabc123 refs/heads/main\n");
        assertEquals("abc123", Provenance.gitCommit(repo.resolve("sub")).orElseThrow());
        Files.writeString(repo.resolve(".git/refs/heads/main"), "def456\n");
        assertEquals("def456", Provenance.gitCommit(repo).orElseThrow());
    }
}
