package org.dpsgd.data;

import org.dpsgd.model.Shape;

/** A dataset held in memory: images as one float array ([N, C, H, W] row-major) and int labels. */
public final class InMemoryDataset implements Dataset {
    private final Shape shape;
    private final int numClasses;
    private final float[] images;
    private final int[] labels;
    private final String description;

    /** Wraps {@code images} ([N, C, H, W] floats) and {@code labels} (N, in [0, numClasses)); arrays are not copied. */
    public InMemoryDataset(Shape shape, int numClasses, float[] images, int[] labels, String description) {
        if (numClasses <= 0) throw new IllegalArgumentException("numClasses must be > 0, got " + numClasses);
        if ((long) labels.length * shape.size() != images.length) {
            throw new IllegalArgumentException(
                    "images hold " + images.length + " floats, expected " + labels.length + " x " + shape.size());
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(
                        "label " + labels[i] + " of example " + i + " is outside [0, " + numClasses + ")");
            }
        }
        this.shape = shape;
        this.numClasses = numClasses;
        this.images = images;
        this.labels = labels;
        this.description = description == null ? "in-memory" : description;
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
        System.arraycopy(images, index * n, dst, offset, n);
    }

    @Override
    public String describe() {
        return description;
    }

    /** The first {@code n} examples (for data.train_limit / test_limit), sharing no arrays with this one. */
    public InMemoryDataset limit(int n) {
        if (n >= size()) return this;
        int s = shape.size();
        return new InMemoryDataset(
                shape,
                numClasses,
                java.util.Arrays.copyOf(images, n * s),
                java.util.Arrays.copyOf(labels, n),
                description + " (first " + n + ")");
    }
}
