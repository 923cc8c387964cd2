package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedDatasetTest {
    @TempDir
    Path dir;

    private ShardedDataset.Header header(int n) {
        return new ShardedDataset.Header(
                n, new Shape(2, 3, 3), 4, 1234L, Normalization.UNIT, List.of("a", "b", "c", "d"));
    }

    private byte[][] write(Path file, int n) {
        Random r = new Random(5);
        byte[][] ex = new byte[n][18];
        try (ShardWriter w = new ShardWriter(file, header(n))) {
            for (int i = 0; i < n; i++) {
                r.nextBytes(ex[i]);
                w.add(i % 4, ex[i]);
            }
            w.finish();
        }
        return ex;
    }

    @Test
    void roundTripsHeaderLabelsAndPixels() {
        Path f = dir.resolve("x.shard");
        byte[][] ex = write(f, 9);
        try (ShardedDataset d = ShardedDataset.open(f)) {
            assertEquals(9, d.size());
            assertEquals(1234L, d.header().fingerprint());
            assertEquals(List.of("a", "b", "c", "d"), d.header().classNames());
            byte[] px = new byte[18];
            float[] x = new float[20];
            for (int i = 0; i < 9; i++) {
                assertEquals(i % 4, d.label(i));
                d.readBytes(i, px);
                assertArrayEquals(ex[i], px);
                d.read(i, x, 2);
                for (int k = 0; k < 18; k++) assertEquals((ex[i][k] & 0xFF) / 255f, x[2 + k], 1e-6);
            }
        }
    }

    @Test
    void examplesAcrossSeveralMappedRegionsReadBack() {
        Path f = dir.resolve("r.shard");
        byte[][] ex = write(f, 11);
        try (ShardedDataset d = ShardedDataset.open(f, 18 * 3 + 5)) { // 3 examples per region: 4 regions
            byte[] px = new byte[18];
            for (int i = 0; i < 11; i++) {
                d.readBytes(i, px);
                assertArrayEquals(ex[i], px, "example " + i);
            }
        }
    }

    @Test
    void truncatedShardIsRefused() throws IOException {
        Path f = dir.resolve("x.shard");
        write(f, 5);
        byte[] all = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(all, all.length - 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardedDataset.open(f));
        assertTrue(e.getMessage().contains("truncated") && e.getMessage().contains("x.shard"), e.getMessage());
    }

    @Test
    void foreignFileIsRefused() throws IOException {
        Path f = dir.resolve("y.shard");
        Files.writeString(f, "not a shard at all, just text");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardedDataset.open(f));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
    }

    @Test
    void unfinishedWriterLeavesNothing() throws IOException {
        Path f = dir.resolve("z.shard");
        try (ShardWriter w = new ShardWriter(f, header(3))) {
            w.add(0, new byte[18]);
        }
        try (var s = Files.list(dir)) {
            assertEquals(0, s.count());
        }
    }
}
