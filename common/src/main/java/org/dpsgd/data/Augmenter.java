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
        for (int c = 0; c < shape.channels(); c++) {
            int plane = c * h * w;
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                int row = dstOff + plane + y * w;
                if (sy < 0 || sy >= h) {
                    java.util.Arrays.fill(dst, row, row + w, 0f);
                    continue;
                }
                int srow = srcOff + plane + sy * w;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx;
                    dst[row + x] = sx < 0 || sx >= w ? 0f : src[srow + sx];
                }
            }
        }
    }
}
