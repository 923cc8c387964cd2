package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarDatasetTest {
    @TempDir
    Path dir;

    /** n records; label byte(s) then 3072 random pixel bytes. */
    static byte[] records(int n, int labelBytes, int[] labels, Random r) {
        int rec = labelBytes + 3072;
        byte[] out = new byte[n * rec];
        r.nextBytes(out);
        for (int i = 0; i < n; i++) {
            if (labelBytes == 2) out[i * rec] = (byte) (labels[i] / 5); // coarse label, ignored
            out[i * rec + labelBytes - 1] = (byte) labels[i];
        }
        return out;
    }

    @Test
    void cifar10ReadsAllFiveTrainingBatchesInOrder() throws IOException {
        Path d = Files.createDirectories(dir.resolve("cifar-10-batches-bin"));
        Random r = new Random(7);
        byte[][] files = new byte[5][];
        for (int b = 1; b <= 5; b++) {
            int[] labels = {b, (b + 3) % 10};
            files[b - 1] = records(2, 1, labels, r);
            Files.write(d.resolve("data_batch_" + b + ".bin"), files[b - 1]);
        }
        Files.write(d.resolve("test_batch.bin"), records(3, 1, new int[] {0, 1, 2}, r));
        Dataset train = CifarDataset.open(dir, false, true);
        assertEquals(10, train.size());
        assertEquals(10, train.numClasses());
        assertEquals(3, CifarDataset.open(dir, false, false).size());
        float[] x = new float[3072];
        for (int i = 0; i < 10; i++) {
            byte[] f = files[i / 2];
            int at = (i % 2) * 3073;
            assertEquals(f[at], train.label(i));
            train.read(i, x, 0);
            // planar RGB: pixel 5 of the green plane
            double expected = ((f[at + 1 + 1024 + 5] & 0xFF) / 255.0 - 0.4822) / 0.2435;
            assertEquals(expected, x[1024 + 5], 1e-5);
        }
    }

    @Test
    void cifar100UsesTheFineLabel() throws IOException {
        Random r = new Random(8);
        Files.write(dir.resolve("train.bin"), records(4, 2, new int[] {99, 0, 57, 12}, r));
        Dataset d = CifarDataset.open(dir, true, true);
        assertEquals(100, d.numClasses());
        assertEquals(99, d.label(0));
        assertEquals(57, d.label(2));
    }

    @Test
    void truncatedFileIsNamed() throws IOException {
        Files.write(dir.resolve("test_batch.bin"), new byte[3073 * 2 - 10]);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CifarDataset.open(dir, false, false));
        assertTrue(e.getMessage().contains("test_batch.bin") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void labelOutOfRangeIsNamed() throws IOException {
        Files.write(dir.resolve("test_batch.bin"), records(2, 1, new int[] {1, 10}, new Random(1)));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CifarDataset.open(dir, false, false));
        assertTrue(e.getMessage().contains("label 10") && e.getMessage().contains("record 1"), e.getMessage());
    }

    @Test
    void missingBatchIsNamed() throws IOException {
        Files.write(dir.resolve("data_batch_1.bin"), records(1, 1, new int[] {1}, new Random(1)));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CifarDataset.open(dir, false, true));
        assertTrue(e.getMessage().contains("data_batch_2.bin"), e.getMessage());
    }
}
