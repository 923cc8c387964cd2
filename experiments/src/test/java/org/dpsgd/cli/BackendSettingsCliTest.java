package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
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
        // Refused when the config is read (its backend is fixed: djl), so the message names the config and the --set.
        assertEquals(
                "error: " + tinyConfig() + " with overrides {backend.settings.thread=2}: unknown key"
                        + " backend.settings.thread for backend djl; valid keys: " + DJL_KEYS,
                last);
        assertFalse(Files.exists(dir.resolve("run")), "nothing is created for a config that fails to load");
    }

    private static final String DJL_KEYS =
            "dtype, graph_cuts, interop_threads, loss_scale, malloc_retain, max_calls, noise_prefetch, omp_wait_policy,"
                    + " parallel_taps, precision, replicas, seed, slot_invariance, threads";

    @Test
    void aBadKeyInAnySweepPointFailsBeforeTheFirstRun() throws Exception {
        Path sweep = dir.resolve("sweep");
        Object[] r = CommandsTest.cli(
                "sweep", tinyConfig().toString(), "--set", "backend.settings.threads=1,2,x", "--out", sweep.toString());
        String err = (String) r[2];
        assertEquals(2, r[0], err);
        assertTrue(
                err.strip().endsWith("backend.settings.threads (backend djl) must be a whole number > 0, got 'x'"),
                err);
        assertFalse(Files.exists(sweep), "no run started: " + err);
    }

    @Test
    void theBackendFlagOfASweepIsTheBackendTheSettingsAreCheckedFor() throws Exception {
        // The config leaves the backend to the machine (auto): which keys are valid is known only with --backend.
        Path cfg = dir.resolve("auto.yaml");
        Files.writeString(
                cfg, CommandsTest.TINY.replace("backend: {name: djl, device: cpu}", "backend: {device: cpu}"));
        Path sweep = dir.resolve("sweep");
        Object[] r = CommandsTest.cli(
                "sweep",
                cfg.toString(),
                "--backend",
                "djl",
                "--set",
                "backend.settings.thread=1,2",
                "--out",
                sweep.toString());
        String err = (String) r[2];
        assertEquals(2, r[0], err);
        // One line naming the config, the sweep point, the key, the backend and the valid keys.
        assertTrue(
                err.strip()
                        .endsWith("error: " + cfg + " with overrides {backend.settings.thread=1}: unknown key"
                                + " backend.settings.thread for backend djl; valid keys: " + DJL_KEYS),
                err);
        assertFalse(Files.exists(sweep), "no run started: " + err);
    }

    @Test
    void theCheckCoversTheFixedBackendOnlyAndLetsOtherBackendsKeysThrough() {
        String base = CommandsTest.TINY;
        // Fixed backend: refused, naming the key, the backend and the valid keys.
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> BackendSettings.checkConfig(
                        ConfigLoader.parse(
                                base.replace(
                                        "backend: {name: djl, device: cpu}",
                                        "backend: {name: djl, settings: {thread: 2}}"),
                                "t.yaml"),
                        null));
        assertEquals("unknown key backend.settings.thread for backend djl; valid keys: " + DJL_KEYS, e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> BackendSettings.checkConfig(
                        ConfigLoader.parse(
                                base.replace(
                                        "backend: {name: djl, device: cpu}",
                                        "backend: {name: ipu, settings: {precision: fp8}}"),
                                "t.yaml"),
                        null));
        assertTrue(
                e.getMessage().startsWith("backend.settings.precision (backend ipu) must be one of"), e.getMessage());
        // A key only the other backend reads is not refused here (the run warns and records it).
        BackendSettings.checkConfig(
                ConfigLoader.parse(
                        base.replace(
                                "backend: {name: djl, device: cpu}",
                                "backend: {name: djl, settings: {stochastic_rounding: true}}"),
                        "t.yaml"),
                null);
        // auto: the machine decides the backend, so the check cannot know the valid keys; the run checks them.
        ExperimentConfig auto = ConfigLoader.parse(
                base.replace("backend: {name: djl, device: cpu}", "backend: {settings: {thread: 2}}"), "t.yaml");
        BackendSettings.checkConfig(auto, null);
        e = assertThrows(IllegalArgumentException.class, () -> BackendSettings.checkConfig(auto, "djl"));
        assertEquals("unknown key backend.settings.thread for backend djl; valid keys: " + DJL_KEYS, e.getMessage());
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
