package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BenchCommandTest {
    private static String capture(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run(args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonIsOneLineWithOneRowPerStrategy() throws Exception {
        String out = capture(
                "bench",
                "--model",
                "small-cnn",
                "--input",
                "1x8x8",
                "--batch",
                "4",
                "--steps",
                "1",
                "--warmup",
                "0",
                "--strategies",
                "nonprivate,microbatch,auto",
                "--json");
        String[] lines = out.strip().split("\n");
        assertEquals(1, lines.length, out);
        JsonNode j = new ObjectMapper().readTree(lines[0]);
        assertEquals("small-cnn", j.get("model").asText());
        assertEquals(4, j.get("batch").asInt());
        assertEquals(3, j.get("results").size());
        assertEquals("nonprivate", j.get("results").get(0).get("strategy").asText());
        assertEquals(1.0, j.get("results").get(0).get("ratio").asDouble());
        for (JsonNode r : j.get("results")) {
            assertTrue(r.get("median_ms").asDouble() > 0);
            assertEquals(
                    4000.0 / r.get("median_ms").asDouble(),
                    r.get("examples_per_s").asDouble(),
                    0.02 * r.get("examples_per_s").asDouble());
            assertTrue(r.has("peak_mb"));
            assertTrue(r.get("cpu_ms").isNumber(), r.toString()); // measured, not "unknown" (null)
        }
        // Private rows beside the non-private one: the floor secure noise sets on this host, from its own numbers.
        JsonNode floor = j.get("noise_floor");
        assertTrue(floor.get("noise_core_ms").asDouble() > 0, floor.toString());
        assertEquals(
                Runtime.getRuntime().availableProcessors(), floor.get("cores").asInt());
        assertEquals(
                new NoiseFloor(
                                floor.get("noise_core_ms").asDouble(),
                                j.get("results").get(0).get("median_ms").asDouble(),
                                j.get("results").get(0).get("cpu_ms").asDouble(),
                                floor.get("cores").asInt())
                        .ratio(),
                floor.get("ratio").asDouble(),
                0.011);
        // --warmup 0 still runs one step per strategy (its peak is read there), and says so.
        assertEquals(3, j.get("warmup").size());
        assertEquals("microbatch 1 step", j.get("warmup").get(1).asText());
        assertTrue(j.get("timed_jit_ms").asLong() >= 0);
        // On the CPU backend noise_prefetch=auto draws ahead at idle priority where Linux allows it, else when needed.
        assertEquals(
                org.dpsgd.noise.NoisePrefetch.from(java.util.Map.of(), true)
                        .name()
                        .toLowerCase(java.util.Locale.ROOT),
                j.get("noise_prefetch").asText());
    }

    /** --set noise_prefetch=idle: the private step's noise is drawn ahead on idle-priority threads, and the JSON says so. */
    @Test
    void idleNoisePrefetchIsASettingTheBenchReports() throws Exception {
        String out = capture(
                "bench",
                "--model",
                "small-cnn",
                "--input",
                "1x8x8",
                "--batch",
                "4",
                "--steps",
                "3",
                "--warmup",
                "1",
                "--strategies",
                "nonprivate,auto",
                "--set",
                "noise_prefetch=idle",
                "--json");
        JsonNode j = new ObjectMapper().readTree(out.strip());
        assertEquals("idle", j.get("noise_prefetch").asText());
        assertTrue(j.get("results").get(1).get("median_ms").asDouble() > 0);
        assertEquals(2, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--set", "noise_prefetch=soon"));
    }

    /** --precision runs every strategy in every precision; each precision's ratios are to its own nonprivate. */
    @Test
    void precisionIsADimension() throws Exception {
        String out = capture(
                "bench",
                "--model",
                "small-cnn",
                "--input",
                "1x8x8",
                "--batch",
                "4",
                "--steps",
                "1",
                "--warmup",
                "0",
                "--strategies",
                "nonprivate,auto",
                "--precision",
                "fp32,fp16",
                "--json");
        JsonNode rows = new ObjectMapper().readTree(out.strip()).get("results");
        assertEquals(4, rows.size(), out);
        String[] labels = {"nonprivate@fp32", "nonprivate@fp16", "auto@fp32", "auto@fp16"};
        for (int i = 0; i < 4; i++) {
            assertEquals(labels[i], rows.get(i).get("strategy").asText());
            assertEquals(
                    labels[i].substring(labels[i].indexOf('@') + 1),
                    rows.get(i).get("precision").asText());
        }
        assertEquals(1.0, rows.get(0).get("ratio").asDouble());
        assertEquals(1.0, rows.get(1).get("ratio").asDouble());
        assertEquals(
                Math.round(100
                                * rows.get(3).get("median_ms").asDouble()
                                / rows.get(1).get("median_ms").asDouble())
                        / 100.0,
                rows.get(3).get("ratio").asDouble(),
                0.011);
        assertEquals(
                2,
                Main.run(
                        "bench",
                        "--model",
                        "small-cnn",
                        "--input",
                        "1x8x8",
                        "--precision",
                        "bf16",
                        "--set",
                        "precision=fp32"));
        assertEquals(
                2,
                Main.run(
                        "bench", "--model", "small-cnn", "--input", "1x8x8", "--precision", "fp16", "--peer", "torch"));
    }

    /** The noise-only line: one row per thread count, per-core throughput consistent with the median time. */
    @Test
    void noiseOnlyTimesSecureNoiseForTheModelsParameters() throws Exception {
        String out = capture(
                "bench",
                "--model",
                "small-cnn",
                "--input",
                "1x8x8",
                "--noise-only",
                "--noise-threads",
                "1,2",
                "--steps",
                "3",
                "--warmup",
                "1",
                "--json");
        JsonNode j = new ObjectMapper().readTree(out.strip());
        int n = j.get("coordinates").asInt();
        assertTrue(n > 1000, out);
        // The tests run with the Vector API module, so the path reported is the one SamplerPath chose.
        assertEquals(org.dpsgd.noise.SamplerPath.description(), j.get("sampler").asText());
        assertEquals(2, j.get("noise_only").size());
        for (int k = 0; k < 2; k++) {
            JsonNode r = j.get("noise_only").get(k);
            assertEquals(k + 1, r.get("threads").asInt());
            assertTrue(r.get("min_ms").asDouble() <= r.get("median_ms").asDouble()
                    && r.get("median_ms").asDouble() <= r.get("max_ms").asDouble());
            assertTrue(r.get("cpu_ms").asDouble() >= 0, out); // counted in 10 ms ticks: a tiny draw may show 0
            assertEquals(
                    n / (r.get("median_ms").asDouble() / 1e3) / (k + 1),
                    r.get("coordinates_per_s_per_core").asDouble(),
                    1e-6 * r.get("coordinates_per_s_per_core").asDouble());
        }
        String text = capture(
                "bench", "--model", "small-cnn", "--input", "1x8x8", "--noise-only", "--steps", "1", "--warmup", "0");
        assertTrue(text.contains("noise-only  1 thread") && text.contains("cycles/coordinate"), text);
        assertTrue(text.contains("ziggurat fast path: " + org.dpsgd.noise.SamplerPath.description()), text);
        assertNotEquals(0, Main.run("bench", "--model", "small-cnn", "--noise-only", "--noise-threads", "0"));
    }

    /**
     * The data line: both assemblies and both feeder modes, throughput consistent with the median
     * time; with micro-batches of 3 slots a batch of 8 takes 3 calls per step.
     */
    @Test
    void dataOnlyTimesAssemblyAndTheBackendsWaitForData() throws Exception {
        String out = capture(
                "bench",
                "--model",
                "small-cnn",
                "--input",
                "1x16x16",
                "--batch",
                "8",
                "--micro-batch",
                "3",
                "--data-only",
                "--steps",
                "2",
                "--warmup",
                "1",
                "--json");
        JsonNode j = new ObjectMapper().readTree(out.strip());
        assertEquals(2, j.get("data").size(), out);
        for (JsonNode r : j.get("data")) {
            assertTrue(r.get("median_ms").asDouble() > 0, out);
            assertTrue(r.get("cpu_median_ms").asDouble() > 0, out);
            assertEquals(
                    8 / (r.get("cpu_median_ms").asDouble() / 1e3),
                    r.get("images_per_s_per_core").asDouble(),
                    1e-6 * r.get("images_per_s_per_core").asDouble());
        }
        assertTrue(j.get("data").get(1).get("assembly").asText().startsWith("crop 2 + flip"), out);
        assertEquals(2, j.get("backend_wait").size());
        for (JsonNode w : j.get("backend_wait")) {
            assertEquals(3, w.get("calls_per_step").asInt(), out);
            assertTrue(w.get("wait_ms_per_step").asDouble() >= 0, out);
            assertTrue(w.get("wait_ms_per_step").asDouble() <= w.get("step_ms").asDouble(), out);
        }
        assertTrue(j.get("backend_wait").get(1).get("prefetch").asBoolean());
        assertNotEquals(
                0,
                Main.run("bench", "--model", "small-cnn", "--input", "1x16x16", "--data-only", "--micro-batch", "-1"));
    }

    @Test
    void badArgumentsAreOneLineErrors() {
        assertEquals(2, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--warmup", "soon"));
        assertEquals(2, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--warmup", "-3"));
        assertNotEquals(0, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--batch", "0"));
        assertNotEquals(
                0,
                Main.run(
                        "bench", "--model", "small-cnn", "--input", "1x8x8", "--strategies", "nosuch", "--steps", "1"));
    }
}
