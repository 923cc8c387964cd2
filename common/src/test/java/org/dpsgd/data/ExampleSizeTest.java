package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.config.DataConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sizes and memory are validated before any work: one line naming the fix, never NegativeArraySizeException or OutOfMemoryError. */
class ExampleSizeTest {
    @TempDir
    Path dir;

    @Test
    void elementCountsBeyondAJavaArrayAreRefusedWithoutOverflow() {
        assertEquals(3L * 32 * 32, ExampleSize.elements("x", 3, 32, 32));
        assertEquals(ExampleSize.MAX_ARRAY, ExampleSize.elements("x", 1, 1, ExampleSize.MAX_ARRAY));
        assertThrows(IllegalArgumentException.class, () -> ExampleSize.elements("x", 1, 1, ExampleSize.MAX_ARRAY + 1));
        // 3·(2^31 - 1)² overflows a long; the check must still refuse it.
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ExampleSize.elements("data.path", 3, Integer.MAX_VALUE, Integer.MAX_VALUE));
        assertTrue(
                e.getMessage().startsWith("data.path makes one example 3x2147483647x2147483647 = 1.38e+19 values"),
                e.getMessage());
    }

    @Test
    void heapCheckRefusesMoreThanHalfTheHeap() {
        long heap = 8L << 30;
        ExampleSize.requireHeap("x", 4L << 30, heap, "fix"); // exactly half: allowed
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ExampleSize.requireHeap("x", (4L << 30) + 1, heap, "fix it"));
        assertEquals(
                "x needs about 4.0 GiB of memory, more than half of the 8.0 GiB Java heap; fix it", e.getMessage());
    }

    @Test
    void aHugeSyntheticShapeFailsInOneLine() {
        DataConfig cfg = DataConfig.of("synthetic", "3x50000x50000/10");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Datasets.open(cfg, Split.TRAIN, 0, m -> {}));
        assertTrue(e.getMessage().startsWith("synthetic data.path 3x50000x50000/10 makes one example"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void syntheticPrototypesThatDoNotFitTheHeapAreRefused() {
        // 1x20000x20000 fits an array (4e8 values) but 10 float prototypes take 16 GB.
        assumeTrue(Runtime.getRuntime().maxMemory() < 32L << 30, "a heap of 32 GB or more would hold them");
        DataConfig cfg = DataConfig.of("synthetic", "1x20000x20000/10");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Datasets.open(cfg, Split.TRAIN, 0, m -> {}));
        assertTrue(e.getMessage().contains("needs about 14.9 GiB of memory"), e.getMessage());
    }

    @Test
    void decodingMemoryIsCheckedBeforeAnyImageIsRead() throws Exception {
        ImageFolderDatasetTest.solid(dir.resolve("train/a/x.png"), "png", 8, 8, Color.RED);
        ImageFolderDatasetTest.solid(dir.resolve("val/a/y.png"), "png", 8, 8, Color.RED);
        int size = DataConfig.MAX_IMAGE_SIZE; // 11·size² bytes per decoding thread: 7.3 GiB
        assumeTrue(Runtime.getRuntime().maxMemory() < 2 * 2 * 11.0 * size * size, "a heap this large could decode it");
        List<String> log = new ArrayList<>();
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageFolderDataset.open(dir, Split.TRAIN, size, dir.resolve("cache"), 2, log::add));
        assertTrue(
                e.getMessage().startsWith("data.image_size=26754 (decoding on 2 threads) needs about"), e.getMessage());
        assertTrue(e.getMessage().contains("use a smaller data.image_size"), e.getMessage());
        assertEquals(List.of(), log); // refused before "packing ..."
    }

    @Test
    void aTrainLimitAboveTheDatasetWarnsAndNamesTheN() throws Exception {
        IdxDatasetTest.writeSplit(dir, "train", 20, false, 1);
        IdxDatasetTest.writeSplit(dir, "t10k", 10, false, 2);
        DataConfig cfg = DataConfig.of("idx", dir.toString());
        List<String> log = new ArrayList<>();
        assertEquals(
                20,
                Datasets.open(cfg.withLimits(100, null), Split.TRAIN, 0, log::add)
                        .size());
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).startsWith("WARNING: data.train_limit=100 is above the 20 examples of "), log.get(0));
        assertTrue(log.get(0).endsWith("using all 20 (the accountant's dataset size N is 20)"), log.get(0));
        log.clear();
        assertEquals(
                20,
                Datasets.open(cfg.withLimits(20, null), Split.TRAIN, 0, log::add)
                        .size());
        assertEquals(
                10,
                Datasets.open(cfg.withLimits(null, 10), Split.TEST, 0, log::add).size());
        assertEquals(List.of(), log); // exactly N is not clamped
        assertEquals(
                10,
                Datasets.open(cfg.withLimits(null, 11), Split.TEST, 0, log::add).size());
        assertTrue(log.get(0).startsWith("WARNING: data.test_limit=11 is above the 10 examples"), log.toString());
    }
}
