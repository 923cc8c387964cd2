package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CheckpointsTest {
    @TempDir
    Path dir;

    private static byte[] payload(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void savesLoadsAndKeepsTheNewestTwo() throws IOException {
        Checkpoints c = new Checkpoints(dir.resolve("checkpoints"), 2);
        for (int step = 10; step <= 40; step += 10) c.save(step, payload(1000 + step, step));
        List<Path> files = c.list();
        assertEquals(2, files.size());
        assertEquals("ckpt-000000030.bin", files.get(0).getFileName().toString());
        assertEquals(40, Checkpoints.stepOf(c.latest().orElseThrow()));
        Checkpoints.Loaded l = Checkpoints.load(c.latest().orElseThrow());
        assertEquals(40, l.step());
        assertArrayEquals(payload(1040, 40), l.payload());
        try (var s = Files.list(c.dir())) {
            assertTrue(s.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary files left behind");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 7, 20, 59, 500})
    void everyCorruptedByteIsDetected(int position) throws IOException {
        Checkpoints c = new Checkpoints(dir, 2);
        Path f = c.save(3, payload(1000, 1));
        byte[] all = Files.readAllBytes(f);
        all[position] ^= 0x10;
        Files.write(f, all);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Checkpoints.load(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 10, 59, 60, 1059})
    void truncatedCheckpointIsAClearError(int length) throws IOException {
        Checkpoints c = new Checkpoints(dir, 2);
        Path f = c.save(3, payload(1000, 1));
        Files.write(f, Arrays.copyOf(Files.readAllBytes(f), length));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Checkpoints.load(f));
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("bad magic"), e.getMessage());
    }

    record State(
            @JsonProperty("step") long step,
            @JsonProperty("w") float[] w,
            @JsonProperty("d") double[] d,
            @JsonProperty("none") float[] none) {}

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void checkpointJsonKeepsFloatsBitForBit(long seed) throws IOException {
        Random r = new Random(seed);
        float[] w = new float[257];
        for (int i = 0; i < w.length; i++) w[i] = Float.intBitsToFloat(r.nextInt());
        w[0] = -0.0f;
        w[1] = Float.MIN_VALUE;
        w[2] = Float.NaN;
        double[] d = r.doubles(33).map(x -> x * 1e-300).toArray();
        byte[] bytes = Json.CHECKPOINT.writeValueAsBytes(new State(seed, w, d, null));
        State back = Json.CHECKPOINT.readValue(bytes, State.class);
        assertEquals(seed, back.step());
        for (int i = 0; i < w.length; i++)
            assertEquals(Float.floatToRawIntBits(w[i]), Float.floatToRawIntBits(back.w()[i]));
        assertArrayEquals(d, back.d());
        assertEquals(null, back.none());
    }
}
