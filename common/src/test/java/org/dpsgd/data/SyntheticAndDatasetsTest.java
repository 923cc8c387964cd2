package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.dpsgd.config.DataConfig;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SyntheticAndDatasetsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 99})
    void syntheticIsReproducibleAndSplitsDiffer(long seed) {
        Shape s = new Shape(1, 4, 4);
        SyntheticDataset a = new SyntheticDataset(seed, 0, 500, s, 5, 1.0);
        SyntheticDataset b = new SyntheticDataset(seed, 0, 500, s, 5, 1.0);
        SyntheticDataset test = new SyntheticDataset(seed, 1, 500, s, 5, 1.0);
        float[] x = new float[16];
        float[] y = new float[16];
        float[] z = new float[16];
        int[] counts = new int[5];
        for (int i = 0; i < 500; i++) {
            assertEquals(a.label(i), b.label(i));
            a.read(i, x, 0);
            b.read(i, y, 0);
            test.read(i, z, 0);
            assertArrayEquals(x, y);
            assertFalse(java.util.Arrays.equals(x, z));
            counts[a.label(i)]++;
        }
        // 500 draws over 5 classes: each count ~ Binomial(500, 0.2), sd 8.9; 5 sd bounds
        for (int c : counts) assertTrue(Math.abs(c - 100) < 45, "class count " + c);
    }

    @Test
    void syntheticClassesAreSeparable() {
        // The nearest prototype recovers the label for most examples: the data is learnable.
        Shape s = new Shape(1, 8, 8);
        SyntheticDataset d = new SyntheticDataset(3, 0, 200, s, 4, 1.0);
        SyntheticDataset noiseless = new SyntheticDataset(3, 0, 200, s, 4, 0.0);
        float[][] protos = new float[4][];
        for (int i = 0; i < 200 && java.util.Arrays.stream(protos).anyMatch(p -> p == null); i++) {
            float[] p = new float[64];
            noiseless.read(i, p, 0);
            protos[noiseless.label(i)] = p;
        }
        int right = 0;
        float[] x = new float[64];
        for (int i = 0; i < 200; i++) {
            d.read(i, x, 0);
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int c = 0; c < 4; c++) {
                double dist = 0;
                for (int k = 0; k < 64; k++) dist += (x[k] - protos[c][k]) * (x[k] - protos[c][k]);
                if (dist < bestD) {
                    bestD = dist;
                    best = c;
                }
            }
            if (best == d.label(i)) right++;
        }
        assertTrue(right > 180, right + " of 200");
    }

    @Test
    void datasetsDispatchesAndAppliesLimits() throws IOException {
        IdxDatasetTest.writeSplit(dir, "train", 20, true, 1);
        IdxDatasetTest.writeSplit(dir, "t10k", 10, false, 2);
        DataConfig cfg = DataConfig.of("idx", dir.toString()).withLimits(5, 3);
        assertEquals(5, Datasets.open(cfg, Split.TRAIN, 0, m -> {}).size());
        assertEquals(3, Datasets.open(cfg, Split.TEST, 0, m -> {}).size());
        assertEquals(
                20,
                Datasets.open(cfg.withLimits(100, null), Split.TRAIN, 0, m -> {})
                        .size());
        assertFalse(Datasets.hasTest(cfg.withLimits(null, 0)));
        assertThrows(
                IllegalArgumentException.class, () -> Datasets.open(cfg.withLimits(null, 0), Split.TEST, 0, m -> {}));
    }

    @Test
    void syntheticSpecFromPath() {
        DataConfig cfg = DataConfig.of("synthetic", "3x8x8/7").withLimits(33, null);
        Dataset d = Datasets.open(cfg, Split.TRAIN, 5, m -> {});
        assertEquals(33, d.size());
        assertEquals(7, d.numClasses());
        assertEquals("3x8x8", d.shape().toString());
        assertEquals(
                Datasets.SYNTHETIC_TEST_SIZE,
                Datasets.open(cfg, Split.TEST, 5, m -> {}).size());
        assertEquals(
                Datasets.SYNTHETIC_TRAIN_SIZE,
                Datasets.open(DataConfig.of("synthetic", null), Split.TRAIN, 5, m -> {})
                        .size());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Datasets.open(DataConfig.of("synthetic", "3x8x8"), Split.TRAIN, 5, m -> {}));
        assertTrue(e.getMessage().contains("CxHxW/classes"), e.getMessage());
    }
}
