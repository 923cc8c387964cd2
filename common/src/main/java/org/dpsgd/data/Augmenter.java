package org.dpsgd.data;

import java.util.SplittableRandom;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.model.Shape;

/**
 * Random crop with zero padding (pad by p, crop back at a uniform offset in [0, 2p]²) followed by a
 * random horizontal flip. Augmentation randomness is not privacy-critical (the clipped, averaged
 * gradient of one example has bounded sensitivity whatever the crop), so a fast seeded generator
 * is used and runs stay reproducible.
 */
public final class Augmenter {
    private final AugmentationConfig config;
    private final Shape shape;

    /**
     * Augments images of {@code shape} per {@code config}; rejects a random crop padding not smaller than the image.
     */
    public Augmenter(AugmentationConfig config, Shape shape) {
        this.config = config;
        this.shape = shape;
        if (config.randomCrop() > 0
                && (config.randomCrop() >= shape.height() || config.randomCrop() >= shape.width())) {
            throw new IllegalArgumentException("data.augmentation.random_crop=" + config.randomCrop()
                    + " must be smaller than the image (" + shape + ")");
        }
    }

    /** True when {@link #apply} changes images (random crop or flip is on). */
    public boolean enabled() {
        return config.enabled();
    }

    /** Writes an augmented copy of {@code src[srcOff..]} into {@code dst[dstOff..]} (must not overlap). */
    public void apply(float[] src, int srcOff, float[] dst, int dstOff, SplittableRandom rng) {
        Crop g = draw(rng);
        int h = shape.height(), w = shape.width();
        for (int c = 0; c < shape.channels(); c++) {
            int plane = c * h * w;
            java.util.Arrays.fill(dst, dstOff + plane, dstOff + plane + g.y0 * w, 0f);
            for (int y = g.y0; y < g.y1; y++) {
                int row = dstOff + plane + y * w;
                int srow = srcOff + plane + (y + g.dy) * w;
                java.util.Arrays.fill(dst, row, row + g.x0, 0f);
                if (g.flip) {
                    // dst[row + x] = src[srow + w - 1 - x + dx]
                    int last = srow + w - 1 + g.dx;
                    for (int x = g.x0; x < g.x1; x++) dst[row + x] = src[last - x];
                } else {
                    System.arraycopy(src, srow + g.x0 + g.dx, dst, row + g.x0, g.x1 - g.x0);
                }
                java.util.Arrays.fill(dst, row + g.x1, row + w, 0f);
            }
            java.util.Arrays.fill(dst, dstOff + plane + g.y1 * w, dstOff + plane + h * w, 0f);
        }
    }

    /**
     * As {@link #apply(float[], int, float[], int, SplittableRandom)} on the image whose floats are
     * {@code tables[c][src[i] & 0xFF]}, converting while it crops and flips: one pass over the
     * image instead of a conversion into scratch and a copy. The same draws, the same floats.
     */
    public void apply(byte[] src, float[][] tables, float[] dst, int dstOff, SplittableRandom rng) {
        Crop g = draw(rng);
        int h = shape.height(), w = shape.width();
        for (int c = 0; c < shape.channels(); c++) {
            int plane = c * h * w;
            float[] t = tables[c];
            java.util.Arrays.fill(dst, dstOff + plane, dstOff + plane + g.y0 * w, 0f);
            for (int y = g.y0; y < g.y1; y++) {
                int row = dstOff + plane + y * w;
                int srow = plane + (y + g.dy) * w;
                java.util.Arrays.fill(dst, row, row + g.x0, 0f);
                if (g.flip) {
                    int last = srow + w - 1 + g.dx;
                    for (int x = g.x0; x < g.x1; x++) dst[row + x] = t[src[last - x] & 0xFF];
                } else {
                    int shift = srow + g.dx;
                    for (int x = g.x0; x < g.x1; x++) dst[row + x] = t[src[shift + x] & 0xFF];
                }
                java.util.Arrays.fill(dst, row + g.x1, row + w, 0f);
            }
            java.util.Arrays.fill(dst, dstOff + plane + g.y1 * w, dstOff + plane + h * w, 0f);
        }
    }

    /**
     * One draw's geometry. Output pixel x reads source column x + dx (flipped: w - 1 - x + dx); the
     * columns that land inside the image form one interval [x0, x1), and the rows [y0, y1), the rest
     * is padding. So each row is a zero fill, one straight or reversed copy and a zero fill: no
     * per-pixel bounds test.
     */
    private record Crop(int dy, int dx, boolean flip, int x0, int x1, int y0, int y1) {}

    private Crop draw(SplittableRandom rng) {
        int p = config.randomCrop();
        int dy = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
        int dx = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
        boolean flip = config.flip() && rng.nextBoolean();
        int h = shape.height(), w = shape.width();
        int x0 = flip ? Math.max(0, dx) : Math.max(0, -dx);
        int x1 = flip ? Math.min(w, w + dx) : Math.min(w, w - dx);
        return new Crop(dy, dx, flip, x0, x1, Math.max(0, -dy), Math.min(h, h - dy));
    }
}
