package org.dpsgd.data;

import java.util.Arrays;

/**
 * Per-channel normalisation applied after scaling uint8 pixels to [0, 1]: x' = (x/255 - mean[c]) / std[c].
 * The constants are the published statistics of each public dataset, fixed in advance: computing
 * them from the (private) training set would itself leak information outside the DP guarantee.
 */
public record Normalization(float[] mean, float[] std) {
    public static final Normalization FASHION_MNIST = new Normalization(new float[] {0.2860f}, new float[] {0.3530f});
    public static final Normalization MNIST = new Normalization(new float[] {0.1307f}, new float[] {0.3081f});
    public static final Normalization CIFAR10 =
            new Normalization(new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2470f, 0.2435f, 0.2616f});
    public static final Normalization CIFAR100 =
            new Normalization(new float[] {0.5071f, 0.4865f, 0.4409f}, new float[] {0.2673f, 0.2564f, 0.2762f});
    public static final Normalization IMAGENET =
            new Normalization(new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});
    /** Only the [0, 1] scaling. */
    public static final Normalization UNIT = new Normalization(new float[] {0f}, new float[] {1f});

    public Normalization {
        if (mean.length != std.length || mean.length == 0)
            throw new IllegalArgumentException("mean and std need the same, non-zero length");
        for (float s : std)
            if (!(s > 0))
                throw new IllegalArgumentException("normalisation std must be > 0, got " + Arrays.toString(std));
        mean = mean.clone();
        std = std.clone();
    }

    /** A lookup table per channel: the normalised value of each of the 256 byte values. */
    float[][] tables(int channels) {
        if (mean.length != 1 && mean.length != channels) {
            throw new IllegalArgumentException(
                    "normalisation has " + mean.length + " channels, images have " + channels);
        }
        float[][] t = new float[channels][256];
        for (int c = 0; c < channels; c++) {
            int k = mean.length == 1 ? 0 : c;
            for (int v = 0; v < 256; v++) t[c][v] = (v / 255f - mean[k]) / std[k];
        }
        return t;
    }

    @Override
    public String toString() {
        return "mean " + Arrays.toString(mean) + " std " + Arrays.toString(std);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }
}
