package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** backend.settings through the CLI: unknown keys refused, other backends' keys reported and recorded, tables listed. */
class BackendSettingsCliTest {
    @TempDir
    Path dir;

    private Path tinyConfig() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        return cfg;
    }

    @Test
    void anUnknownKeyIsRefusedInOneLineNamingKeyBackendAndValidKeys() throws Exception {
        Object[] r = CommandsTest.cli(
                "train",
                "--config",
                tinyConfig().toString(),
                "--set",
                "backend.settings.thread=2",
                "--out",
                dir.resolve("run").toString());
        String err = (String) r[2];
        assertEquals(2, r[0], err);
        String last = err.lines().reduce((a, b) -> b).orElse("");
        assertEquals(
                "error: unknown key backend.settings.thread for backend djl; valid keys: dtype, interop_threads,"
                        + " loss_scale, max_calls, omp_wait_policy, precision, replicas, seed, threads",
                last);
    }

    @Test
    void anIpuOnlyKeyOnDjlIsReportedLoudlyAndRecordedInRunJson() throws Exception {
        Path run = dir.resolve("run");
        Object[] r = CommandsTest.cli(
                "train",
                "--config",
                tinyConfig().toString(),
                "--set",
                "backend.settings.stochastic_rounding=true",
                "--out",
                run.toString());
        String err = (String) r[2];
        assertEquals(0, r[0], err);
        assertTrue(
                err.contains("WARNING: backend.settings stochastic_rounding is read only by the ipu backend; the djl"
                        + " backend IGNORES it"),
                err);
        JsonNode info =
                new ObjectMapper().readTree(run.resolve(RunDirectory.RUN_JSON).toFile());
        assertEquals(
                "[\"stochastic_rounding\"]",
                info.path("backend_settings_ignored").toString());
    }

    @Test
    void aRunThatUsesEveryKeyRecordsNothingIgnored() throws Exception {
        Path run = dir.resolve("run");
        Object[] r = CommandsTest.cli(
                "train",
                "--config",
                tinyConfig().toString(),
                "--set",
                "backend.settings.precision=fp32",
                "--out",
                run.toString());
        assertEquals(0, r[0], (String) r[2]);
        JsonNode info =
                new ObjectMapper().readTree(run.resolve(RunDirectory.RUN_JSON).toFile());
        assertFalse(info.has("backend_settings_ignored"), info.toString());
        assertFalse(((String) r[2]).contains("WARNING: backend.settings"), (String) r[2]);
    }

    @Test
    void backendsJsonListsEachBackendsSettingsTable() throws Exception {
        Object[] r = CommandsTest.cli("backends", "--json");
        assertEquals(0, r[0], (String) r[2]);
        JsonNode backends = new ObjectMapper().readTree((String) r[1]).path("backends");
        List<String> seen = new ArrayList<>();
        for (JsonNode b : backends) {
            List<String> keys = new ArrayList<>();
            b.path("settings").forEach(s -> keys.add(s.path("key").asText()));
            assertEquals(List.of("replicas", "max_calls"), keys.subList(0, 2), b.toString());
            seen.add(b.path("name").asText() + ":" + keys.contains("precision") + ":" + keys.contains("threads"));
        }
        assertTrue(seen.contains("djl:true:true"), seen.toString()); // both read precision (fp16 means the same)
        assertTrue(seen.contains("ipu:true:false"), seen.toString());
        JsonNode ipuPrecision = null;
        for (JsonNode b : backends)
            for (JsonNode s : b.path("settings"))
                if (s.path("key").asText().equals("precision")) {
                    if (b.path("name").asText().equals("ipu")) ipuPrecision = s;
                    else
                        assertEquals(
                                "[\"fp32\",\"fp64\",\"bf16\",\"fp16\"]",
                                s.path("allowed").toString());
                }
        assertEquals("[\"fp32\",\"fp16\"]", ipuPrecision.path("allowed").toString());
        assertEquals("choice", ipuPrecision.path("type").asText());
    }
}
