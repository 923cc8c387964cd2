package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditCommandTest {
    @TempDir
    Path dir;

    @Test
    void auditsATinyRunThroughTheDjlBackend() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Object[] r = CommandsTest.cli(
                "audit",
                "--config",
                cfg.toString(),
                "--canaries",
                "60",
                "--json",
                "--out",
                dir.resolve("a").toString());
        assertEquals(0, r[0], (String) r[2]);
        String[] lines = ((String) r[1]).strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        for (String k : new String[] {
            "epsilon", "epsilon_lower", "confidence", "canaries", "guesses", "correct", "kind", "test_accuracy"
        }) {
            assertTrue(j.has(k), "missing " + k + " in " + j);
        }
        assertEquals(60, j.get("canaries").asInt());
        assertEquals("whitebox", j.get("kind").asText());
        // The canaries are part of the private dataset; the run's ε is the plain accountant's for q = B/N and T.
        assertEquals(
                Accountants.epsilon(16.0 / 128, 1.0, 3, 1e-5, AccountantKind.RDP),
                j.get("epsilon").asDouble(),
                1e-9);
        assertTrue(j.get("epsilon_lower").asDouble() <= j.get("epsilon").asDouble());
        JsonNode file = new ObjectMapper().readTree(dir.resolve("a/audit.json").toFile());
        assertEquals(60, file.get("coins").size());
        assertEquals(60, file.get("scores").size());
        Map<String, Object> info = RunDirectory.readRunInfo(dir.resolve("a"));
        assertTrue(((Map<?, ?>) info.get("final")).containsKey("epsilon_lower"));
        assertTrue(!Files.readString(dir.resolve("a/run.json")).contains("\"coins\""), "coins only in audit.json");
    }

    /**
     * Black-box input canaries: wrong-labelled test images through the DJL backend's own clipping,
     * scored by loss; the canaries do not change q = B/N, and their coins and test ids are only in audit.json.
     */
    @Test
    void auditsATinyRunWithBlackBoxCanaries() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Object[] r = CommandsTest.cli(
                "audit",
                "--config",
                cfg.toString(),
                "--kind",
                "blackbox",
                "--canaries",
                "30",
                "--json",
                "--out",
                dir.resolve("b").toString());
        assertEquals(0, r[0], (String) r[2]);
        String[] lines = ((String) r[1]).strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        for (String k : new String[] {
            "epsilon", "epsilon_lower", "confidence", "canaries", "guesses", "correct", "kind", "test_accuracy"
        }) {
            assertTrue(j.has(k), "missing " + k + " in " + j);
        }
        assertEquals("blackbox", j.get("kind").asText());
        assertEquals("loss", j.get("score").asText());
        assertEquals(30, j.get("canaries").asInt());
        assertEquals(
                Accountants.epsilon(16.0 / 128, 1.0, 3, 1e-5, AccountantKind.RDP),
                j.get("epsilon").asDouble(),
                1e-9);
        assertTrue(j.get("epsilon_lower").asDouble() <= j.get("epsilon").asDouble());
        assertTrue(!j.has("coins") && !j.has("test_ids"), "no canary secrets on stdout: " + j);
        JsonNode file = new ObjectMapper().readTree(dir.resolve("b/audit.json").toFile());
        assertEquals(30, file.get("coins").size());
        assertEquals(30, file.get("scores").size());
        assertEquals(30, file.get("labels").size());
        JsonNode ids = file.get("test_ids");
        java.util.Set<Integer> distinct = new java.util.HashSet<>();
        for (JsonNode id : ids) {
            assertTrue(id.asInt() >= 0 && id.asInt() < 32, "test id " + id);
            distinct.add(id.asInt());
        }
        assertEquals(30, distinct.size());
        String runJson = Files.readString(dir.resolve("b/run.json"));
        assertTrue(!runJson.contains("\"coins\"") && !runJson.contains("\"test_ids\""), "secrets only in audit.json");
        assertTrue(((Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("b")).get("final")).containsKey("epsilon_lower"));
        assertTrue(((String) r[2]).contains("black-box"), "the run says it is a black-box audit: " + r[2]);
        // The test accuracy is measured without the 30 canary images (trained on under wrong labels).
        Map<?, ?> data = (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("b")).get("dataset");
        assertEquals(2, ((Number) data.get("test_size")).intValue(), String.valueOf(data));
    }

    /** Without a test split the canaries are synthetic inputs (test id -1). */
    @Test
    void blackBoxWithoutATestSplitUsesSyntheticInputs() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Object[] r = CommandsTest.cli(
                "audit",
                "--config",
                cfg.toString(),
                "--kind",
                "blackbox",
                "--canaries",
                "20",
                "--json",
                "--set",
                "data.test_limit=0",
                "--out",
                dir.resolve("s").toString());
        assertEquals(0, r[0], (String) r[2]);
        JsonNode file = new ObjectMapper().readTree(dir.resolve("s/audit.json").toFile());
        for (JsonNode id : file.get("test_ids")) assertEquals(-1, id.asInt());
    }

    @Test
    void badInputIsOneLine() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Object[] r = CommandsTest.cli("audit", "--config", cfg.toString(), "--kind", "greybox");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).startsWith("error: ") && ((String) r[2]).contains("greybox"), (String) r[2]);
        Object[] b = CommandsTest.cli(
                "audit",
                "--config",
                cfg.toString(),
                "--kind",
                "blackbox",
                "--canaries",
                "33",
                "--out",
                dir.resolve("too-many").toString());
        assertEquals(2, b[0]);
        assertTrue(((String) b[2]).startsWith("error: ") && ((String) b[2]).contains("--canaries"), (String) b[2]);
        assertEquals(1, ((String) b[2]).strip().split("\n").length, (String) b[2]);
        Object[] c = CommandsTest.cli("audit", "--config", cfg.toString(), "--confidence", "1.5");
        assertEquals(2, c[0]);
        assertTrue(((String) c[2]).contains("confidence"), (String) c[2]);
    }

    /**
     * The f-DP bound is selectable and reported; it is refused where its Gaussian (μ-GDP) hypothesis is not known to
     * hold (q < 1), with one line naming the fix.
     */
    @Test
    void fdpBoundIsReportedAndRefusedForSubsampledRuns() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Object[] refused = CommandsTest.cli(
                "audit",
                "--config",
                cfg.toString(),
                "--bound",
                "fdp",
                "--out",
                dir.resolve("q").toString());
        assertEquals(2, refused[0], (String) refused[2]);
        String err = ((String) refused[2]).strip();
        assertTrue(err.startsWith("error: ") && err.contains("q = 16/128") && err.contains("steinke"), err);
        assertEquals(1, err.split("\n").length, err);
        Object[] r = CommandsTest.cli(
                "audit",
                "--config",
                cfg.toString(),
                "--bound",
                "fdp",
                "--set",
                "training.batch_size=128",
                "--canaries",
                "60",
                "--json",
                "--out",
                dir.resolve("f").toString());
        assertEquals(0, r[0], (String) r[2]);
        String[] lines = ((String) r[1]).strip().split("\n");
        JsonNode j = new ObjectMapper().readTree(lines[lines.length - 1]);
        assertEquals("fdp", j.get("bound").asText());
        assertTrue(j.get("epsilon_lower").asDouble() <= j.get("epsilon").asDouble(), j.toString());
        assertEquals(
                "fdp",
                new ObjectMapper()
                        .readTree(dir.resolve("f/audit.json").toFile())
                        .get("bound")
                        .asText());
        Map<?, ?> audit = (Map<?, ?>) RunDirectory.readRunInfo(dir.resolve("f")).get("audit");
        assertEquals("fdp", audit.get("bound"), String.valueOf(audit));
        Object[] bad = CommandsTest.cli("audit", "--config", cfg.toString(), "--bound", "gdp");
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--bound must be 'steinke' or 'fdp', got 'gdp'"), (String) bad[2]);
    }
}
