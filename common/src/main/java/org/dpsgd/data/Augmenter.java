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
        int p = config.randomCrop();
        int dy = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
        int dx = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
        boolean flip = config.flip() && rng.nextBoolean();
        int h = shape.height(), w = shape.width();
        // Output pixel x reads source column x + dx (flipped: w - 1 - x + dx); the columns that
        // land inside the image form one interval [x0, x1), the rest are padding. So each row is a
        // zero fill, one straight or reversed copy and a zero fill: no per-pixel bounds test.
        int x0 = flip ? Math.max(0, dx) : Math.max(0, -dx);
        int x1 = flip ? Math.min(w, w + dx) : Math.min(w, w - dx);
        int y0 = Math.max(0, -dy), y1 = Math.min(h, h - dy);
        for (int c = 0; c < shape.channels(); c++) {
            int plane = c * h * w;
            java.util.Arrays.fill(dst, dstOff + plane, dstOff + plane + y0 * w, 0f);
            for (int y = y0; y < y1; y++) {
                int row = dstOff + plane + y * w;
                int srow = srcOff + plane + (y + dy) * w;
                java.util.Arrays.fill(dst, row, row + x0, 0f);
                if (flip) {
                    // dst[row + x] = src[srow + w - 1 - x + dx]
                    int last = srow + w - 1 + dx;
                    for (int x = x0; x < x1; x++) dst[row + x] = src[last - x];
                } else {
                    System.arraycopy(src, srow + x0 + dx, dst, row + x0, x1 - x0);
                }
                java.util.Arrays.fill(dst, row + x1, row + w, 0f);
            }
            java.util.Arrays.fill(dst, dstOff + plane + y1 * w, dstOff + plane + h * w, 0f);
        }
    }
}
