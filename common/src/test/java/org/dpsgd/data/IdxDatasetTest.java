package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxDatasetTest {
    @TempDir
    Path dir;

    static byte[] idxImages(int magic, int n, int rows, int cols, byte[] pixels) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bos);
        out.writeInt(magic);
        out.writeInt(n);
        out.writeInt(rows);
        out.writeInt(cols);
        out.write(pixels);
        return bos.toByteArray();
    }

    static byte[] idxLabels(int magic, int n, byte[] labels) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bos);
        out.writeInt(magic);
        out.writeInt(n);
        out.write(labels);
        return bos.toByteArray();
    }

    static void write(Path file, byte[] data, boolean gz) throws IOException {
        try (OutputStream os = gz ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            os.write(data);
        }
    }

    /** Writes a small random MNIST-like split; returns the raw pixels and labels written. */
    static byte[][] writeSplit(Path folder, String prefix, int n, boolean gz, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] px = new byte[n * 28 * 28];
        r.nextBytes(px);
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) labels[i] = (byte) r.nextInt(10);
        String ext = gz ? ".gz" : "";
        write(folder.resolve(prefix + "-images-idx3-ubyte" + ext), idxImages(0x803, n, 28, 28, px), gz);
        write(folder.resolve(prefix + "-labels-idx1-ubyte" + ext), idxLabels(0x801, n, labels), gz);
        return new byte[][] {px, labels};
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsPixelsAndLabelsPlainAndGzipped(boolean gz) throws IOException {
        byte[][] written = writeSplit(dir, "train", 7, gz, 42);
        writeSplit(dir, "t10k", 3, gz, 43);
        Dataset d = IdxDataset.open(dir, true);
        assertEquals(7, d.size());
        assertEquals(10, d.numClasses());
        assertEquals("1x28x28", d.shape().toString());
        float[] x = new float[2 + 784];
        for (int i = 0; i < 7; i++) {
            assertEquals(written[1][i], d.label(i));
            d.read(i, x, 2);
            for (int p = 0; p < 784; p++) {
                double expected = ((written[0][i * 784 + p] & 0xFF) / 255.0 - 0.1307)
                        / 0.3081; // MNIST constants: folder has no "fashion"
                assertEquals(expected, x[2 + p], 1e-5);
            }
        }
        assertEquals(3, IdxDataset.open(dir, false).size());
    }

    @Test
    void fashionFolderUsesFashionMnistStatistics() throws IOException {
        Path f = Files.createDirectories(dir.resolve("my-fashion-mnist"));
        byte[][] written = writeSplit(f, "t10k", 2, true, 1);
        float[] x = new float[784];
        IdxDataset.open(f, false).read(1, x, 0);
        assertEquals(((written[0][784] & 0xFF) / 255.0 - 0.2860) / 0.3530, x[0], 1e-5);
    }

    @Test
    void badMagicIsNamed() throws IOException {
        write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x801, 1, 28, 28, new byte[784]), false);
        write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(0x801, 1, new byte[1]), false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.open(dir, true));
        assertTrue(
                e.getMessage().contains("bad magic") && e.getMessage().contains("train-images-idx3-ubyte"),
                e.getMessage());
    }

    @Test
    void truncatedImagesAreNamed() throws IOException {
        write(dir.resolve("train-images-idx3-ubyte.gz"), idxImages(0x803, 3, 28, 28, new byte[2 * 784]), true);
        write(dir.resolve("train-labels-idx1-ubyte.gz"), idxLabels(0x801, 3, new byte[3]), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.open(dir, true));
        assertTrue(
                e.getMessage().contains("truncated") && e.getMessage().contains("train-images-idx3-ubyte.gz"),
                e.getMessage());
    }

    @Test
    void countMismatchIsAnError() throws IOException {
        write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x803, 2, 28, 28, new byte[2 * 784]), false);
        write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(0x801, 3, new byte[3]), false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.open(dir, true));
        assertTrue(e.getMessage().contains("3 labels") && e.getMessage().contains("2 images"), e.getMessage());
    }

    @Test
    void labelOutOfRangeIsAnError() throws IOException {
        write(dir.resolve("train-images-idx3-ubyte"), idxImages(0x803, 2, 28, 28, new byte[2 * 784]), false);
        write(dir.resolve("train-labels-idx1-ubyte"), idxLabels(0x801, 2, new byte[] {3, 10}), false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.open(dir, true));
        assertTrue(e.getMessage().contains("label 10") && e.getMessage().contains("example 1"), e.getMessage());
    }

    @Test
    void missingFashionMnistSuggestsThePackage() {
        Path f = dir.resolve("fashion-mnist");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.open(f, true));
        assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    }

    @Test
    void missingFileIsNamed() throws IOException {
        writeSplit(dir, "train", 1, false, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.open(dir, false));
        assertTrue(e.getMessage().contains("t10k-images-idx3-ubyte"), e.getMessage());
    }

    /** The installed Fashion-MNIST, when present: the published statistics centre and scale it. */
    @Test
    void installedFashionMnistIsNormalised() {
        Path f = Path.of("/usr/share/datasets/fashion-mnist");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(f), "Fashion-MNIST is not installed");
        Dataset d = IdxDataset.open(f, true);
        assertEquals(60000, d.size());
        assertEquals(10000, IdxDataset.open(f, false).size());
        double sum = 0;
        double sq = 0;
        float[] x = new float[784];
        int[] perClass = new int[10];
        for (int i = 0; i < d.size(); i++) {
            d.read(i, x, 0);
            perClass[d.label(i)]++;
            for (float v : x) {
                sum += v;
                sq += v * v;
            }
        }
        double n = 784.0 * d.size();
        double mean = sum / n;
        assertEquals(0, mean, 0.01);
        assertEquals(1, Math.sqrt(sq / n - mean * mean), 0.01);
        for (int c : perClass) assertEquals(6000, c);
    }
}
