package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {
    @TempDir
    Path dir;

    static void solid(Path file, String format, int w, int h, Color c) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, format, file.toFile()));
    }

    /** train/{cat,ant} (sorted: ant=0, cat=1), val/{ant,cat}; colours encode the class. */
    private void makeFolder() throws IOException {
        solid(dir.resolve("train/cat/a.png"), "png", 12, 10, Color.RED);
        solid(dir.resolve("train/cat/b.PNG"), "png", 10, 14, Color.RED);
        solid(dir.resolve("train/ant/c.jpg"), "jpg", 16, 16, Color.BLUE);
        solid(dir.resolve("train/ant/d.JPEG"), "jpeg", 9, 9, Color.BLUE);
        Files.writeString(dir.resolve("train/ant/notes.txt"), "ignored");
        solid(dir.resolve("val/ant/e.png"), "png", 8, 8, Color.BLUE);
        solid(dir.resolve("val/cat/f.png"), "png", 8, 8, Color.RED);
    }

    @Test
    void packsSortedClassesIntoAShardAndReusesIt() throws IOException {
        makeFolder();
        Path cache = dir.resolve("cache");
        List<String> log = new ArrayList<>();
        try (ShardedDataset train = ImageFolderDataset.open(dir, Split.TRAIN, 8, cache, 2, log::add)) {
            assertEquals(4, train.size());
            assertEquals(2, train.numClasses());
            assertEquals(List.of("ant", "cat"), train.header().classNames());
            assertEquals("3x8x8", train.shape().toString());
            // sorted classes, then sorted files: ant/c.jpg, ant/d.JPEG, cat/a.png, cat/b.PNG
            assertArrayEquals(
                    new int[] {0, 0, 1, 1}, new int[] {train.label(0), train.label(1), train.label(2), train.label(3)});
            byte[] px = new byte[3 * 64];
            train.readBytes(2, px);
            for (int i = 0; i < 64; i++) {
                assertEquals(255, px[i] & 0xFF); // red plane
                assertEquals(0, px[64 + i] & 0xFF);
                assertEquals(0, px[128 + i] & 0xFF);
            }
            train.readBytes(0, px); // JPEG blue: lossy, so only approximately
            assertTrue((px[0] & 0xFF) < 30 && (px[128] & 0xFF) > 220);
            float[] x = new float[3 * 64];
            train.read(3, x, 0);
            assertEquals((1 - 0.485) / 0.229, x[0], 1e-5);
        }
        assertEquals(1, log.size());
        try (ShardedDataset again = ImageFolderDataset.open(dir, Split.TRAIN, 8, cache, 2, log::add)) {
            assertEquals(4, again.size());
        }
        assertEquals(1, log.size(), "the second open memory-maps the existing shard instead of packing again");
        try (ShardedDataset val = ImageFolderDataset.open(dir, Split.TEST, 8, cache, 1, log::add)) {
            assertEquals(2, val.size());
            assertEquals(0, val.label(0));
            assertEquals(1, val.label(1));
        }
    }

    @Test
    void changedFilesTriggerARepack() throws IOException {
        makeFolder();
        Path cache = dir.resolve("cache");
        List<String> log = new ArrayList<>();
        ImageFolderDataset.open(dir, Split.TEST, 4, cache, 1, log::add).close();
        solid(dir.resolve("val/cat/g.png"), "png", 5, 5, Color.RED);
        try (ShardedDataset val = ImageFolderDataset.open(dir, Split.TEST, 4, cache, 1, log::add)) {
            assertEquals(3, val.size());
        }
        assertEquals(2, log.size());
    }

    @Test
    void resizesTheShorterSideAndCropsTheCentre() throws IOException {
        // 30x10: left third green, middle third white, right third black. Shorter side 10 -> 5: 15x5, crop the middle
        // 5x5.
        BufferedImage img = new BufferedImage(30, 10, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.GREEN);
        g.fillRect(0, 0, 10, 10);
        g.setColor(Color.WHITE);
        g.fillRect(10, 0, 10, 10);
        g.dispose();
        Path f = dir.resolve("wide.png");
        ImageIO.write(img, "png", f.toFile());
        byte[] px = ImageFolderDataset.decode(f, 5);
        assertEquals(75, px.length);
        for (int c = 0; c < 3; c++) {
            int centre = px[c * 25 + 2 * 5 + 2] & 0xFF;
            assertTrue(centre > 240, "centre is white, got " + centre);
        }
    }

    @Test
    void grayscaleBecomesRgb() throws IOException {
        BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
        img.getRaster().setSample(0, 0, 0, 200);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) img.getRaster().setSample(x, y, 0, 128);
        Path f = dir.resolve("g.png");
        ImageIO.write(img, "png", f.toFile());
        byte[] px = ImageFolderDataset.decode(f, 4);
        assertEquals(px[5] & 0xFF, px[16 + 5] & 0xFF);
        assertEquals(px[5] & 0xFF, px[32 + 5] & 0xFF);
    }

    @Test
    void corruptImageIsNamed() throws IOException {
        makeFolder();
        Files.write(dir.resolve("train/cat/broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3});
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageFolderDataset.open(dir, Split.TRAIN, 8, dir.resolve("cache"), 2, s -> {}));
        assertTrue(e.getMessage().contains("broken.jpg"), e.getMessage());
        try (var s = Files.list(dir.resolve("cache"))) {
            assertEquals(0, s.count(), "a failed pack leaves no shard or partial file behind");
        }
    }

    @Test
    void valClassMissingFromTrainIsAnError() throws IOException {
        makeFolder();
        solid(dir.resolve("val/zebra/z.png"), "png", 4, 4, Color.BLACK);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageFolderDataset.open(dir, Split.TEST, 4, dir.resolve("cache"), 1, s -> {}));
        assertTrue(e.getMessage().contains("zebra"), e.getMessage());
    }

    @Test
    void missingTrainFolderIsNamed() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageFolderDataset.open(dir, Split.TRAIN, 4, dir.resolve("cache"), 1, s -> {}));
        assertTrue(e.getMessage().contains("train"), e.getMessage());
    }
}
