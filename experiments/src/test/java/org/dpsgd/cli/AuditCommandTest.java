package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
                Accountants.epsilon(16.0 / 128, 1.0, 3, 1e-5, "rdp"),
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

    @Test
    void badInputIsOneLine() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Object[] r = CommandsTest.cli("audit", "--config", cfg.toString(), "--kind", "blackbox");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).startsWith("error: ") && ((String) r[2]).contains("blackbox"), (String) r[2]);
        Object[] c = CommandsTest.cli("audit", "--config", cfg.toString(), "--confidence", "1.5");
        assertEquals(2, c[0]);
        assertTrue(((String) c[2]).contains("confidence"), (String) c[2]);
    }
}
