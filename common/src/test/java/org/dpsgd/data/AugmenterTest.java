package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Augmenter}'s row-copy loop against the definition written pixel by pixel: output pixel
 * (c, y, x) is source pixel (c, y + dy, x' + dx) with x' = x (or w - 1 - x when flipped), zero
 * where that falls outside the image; dy, dx and the flip are drawn in that order from the
 * generator. Random shapes (square and not, 1 and 3 channels), every crop size allowed, with and
 * without flip, into an offset in a larger array with NaN around it (so a write outside the copy
 * or a missed pixel shows).
 */
class AugmenterTest {
    static IntStream seeds() {
        return IntStream.range(0, 40);
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void equalsThePixelByPixelDefinition(int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Shape shape = new Shape(r.nextBoolean() ? 1 : 3, 1 + r.nextInt(12), 1 + r.nextInt(12));
        int maxCrop = Math.min(shape.height(), shape.width()) - 1;
        AugmentationConfig config = new AugmentationConfig(r.nextInt(maxCrop + 1), seed % 3 != 0, 1);
        Augmenter aug = new Augmenter(config, shape);
        int n = shape.size();
        float[] src = new float[n + 5];
        for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
        for (int draw = 0; draw < 20; draw++) {
            long s = r.nextLong();
            float[] got = new float[n + 7];
            float[] want = new float[n + 7];
            java.util.Arrays.fill(got, Float.NaN);
            java.util.Arrays.fill(want, Float.NaN);
            aug.apply(src, 5, got, 3, new SplittableRandom(s));
            reference(config, shape, src, 5, want, 3, new SplittableRandom(s));
            assertArrayEquals(want, got, "seed " + seed + " draw " + draw + " " + shape + " " + config);
        }
    }

    /** The byte path (convert while cropping) gives the float path's floats, bit for bit, for the same draws. */
    @ParameterizedTest
    @MethodSource("seeds")
    void bytePathEqualsFloatPath(int seed) {
        SplittableRandom r = new SplittableRandom(seed + 1000);
        Shape shape = new Shape(r.nextBoolean() ? 1 : 3, 1 + r.nextInt(12), 1 + r.nextInt(12));
        int maxCrop = Math.min(shape.height(), shape.width()) - 1;
        AugmentationConfig config = new AugmentationConfig(r.nextInt(maxCrop + 1), seed % 3 != 0, 1);
        Augmenter aug = new Augmenter(config, shape);
        int n = shape.size(), plane = shape.height() * shape.width();
        float[][] tables = new float[shape.channels()][256];
        for (float[] t : tables) for (int v = 0; v < 256; v++) t[v] = (float) r.nextGaussian();
        byte[] bytes = new byte[n];
        r.nextBytes(bytes);
        float[] floats = new float[n];
        for (int i = 0; i < n; i++) floats[i] = tables[i / plane][bytes[i] & 0xFF];
        for (int draw = 0; draw < 20; draw++) {
            long s = r.nextLong();
            float[] got = new float[n + 4];
            float[] want = new float[n + 4];
            java.util.Arrays.fill(got, Float.NaN);
            java.util.Arrays.fill(want, Float.NaN);
            aug.apply(bytes, tables, got, 2, new SplittableRandom(s));
            aug.apply(floats, 0, want, 2, new SplittableRandom(s));
            assertArrayEquals(want, got, "seed " + seed + " draw " + draw + " " + shape + " " + config);
        }
    }

    private static void reference(
            AugmentationConfig config,
            Shape shape,
            float[] src,
            int srcOff,
            float[] dst,
            int dstOff,
            SplittableRandom rng) {
        int p = config.randomCrop();
        int dy = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
        int dx = p > 0 ? rng.nextInt(2 * p + 1) - p : 0;
        boolean flip = config.flip() && rng.nextBoolean();
        int h = shape.height(), w = shape.width();
        for (int c = 0; c < shape.channels(); c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int sy = y + dy, sx = (flip ? w - 1 - x : x) + dx;
                    boolean inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                    dst[dstOff + (c * h + y) * w + x] = inside ? src[srcOff + (c * h + sy) * w + sx] : 0f;
                }
    }
}
