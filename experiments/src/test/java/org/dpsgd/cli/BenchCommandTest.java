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

    @Test void jsonIsOneLineWithOneRowPerStrategy() throws Exception {
        String out = capture("bench", "--model", "small-cnn", "--input", "1x8x8", "--batch", "4", "--steps", "1", "--warmup", "0",
                "--strategies", "nonprivate,microbatch,auto", "--json");
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
            assertEquals(4000.0 / r.get("median_ms").asDouble(), r.get("examples_per_s").asDouble(), 0.02 * r.get("examples_per_s").asDouble());
            assertTrue(r.has("peak_mb"));
        }
    }

    @Test void badArgumentsAreOneLineErrors() {
        assertNotEquals(0, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--batch", "0"));
        assertNotEquals(0, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--strategies", "nosuch", "--steps", "1"));
    }
}
