package org.dpsgd.data;

import org.dpsgd.model.Shape;

/**
 * Images held in memory as uint8 CHW (a quarter of the float size), normalised on read. Immutable,
 * so concurrent reads are safe.
 */
public class ByteImageDataset implements Dataset {
    private final byte[] pixels;
    private final int[] labels;
    private final Shape shape;
    private final int numClasses;
    private final float[][] tables;
    private final String origin;

    /**
     * Wraps uint8 CHW {@code pixels} of {@code labels.length} images; labels must be in [0, numClasses). Arrays are not
     * copied: do not modify them afterwards.
     */
    public ByteImageDataset(
            byte[] pixels, int[] labels, Shape shape, int numClasses, Normalization norm, String origin) {
        if ((long) labels.length * shape.size() != pixels.length) {
            throw new IllegalArgumentException(origin + ": " + pixels.length + " pixel bytes do not hold "
                    + labels.length + " images of " + shape);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(
                        origin + ": label " + labels[i] + " of example " + i + " is outside [0, " + numClasses + ")");
            }
        }
        this.pixels = pixels;
        this.labels = labels;
        this.shape = shape;
        this.numClasses = numClasses;
        this.tables = norm.tables(shape.channels());
        this.origin = origin;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public void read(int index, float[] dst, int offset) {
        int n = shape.size();
        int plane = shape.height() * shape.width();
        int base = Math.multiplyExact(index, n);
        for (int c = 0; c < shape.channels(); c++) {
            float[] t = tables[c];
            int from = base + c * plane;
            int to = offset + c * plane;
            for (int i = 0; i < plane; i++) dst[to + i] = t[pixels[from + i] & 0xFF];
        }
    }

    @Override
    public float[][] byteTables() {
        return tables;
    }

    @Override
    public void readBytes(int index, byte[] dst) {
        int n = shape.size();
        System.arraycopy(pixels, Math.multiplyExact(index, n), dst, 0, n);
    }

    /** Bytes of pixels held in memory (what a rank's shard costs). */
    int pixelBytes() {
        return pixels.length;
    }

    @Override
    public String describe() {
        return origin;
    }
}
