package org.dpsgd.data;

import org.dpsgd.model.Shape;

/** The first {@code size} examples of another dataset (data.train_limit / data.test_limit). */
public final class SubsetDataset implements Dataset {
    private final Dataset base;
    private final int size;

    /** The first {@code size} examples of {@code base}; {@code size} must be in [1, base.size()]. */
    public SubsetDataset(Dataset base, int size) {
        if (size <= 0 || size > base.size()) {
            throw new IllegalArgumentException(
                    "subset of " + size + " examples is not within the " + base.size() + " of " + base.describe());
        }
        this.base = base;
        this.size = size;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Shape shape() {
        return base.shape();
    }

    @Override
    public int numClasses() {
        return base.numClasses();
    }

    @Override
    public int label(int index) {
        return base.label(check(index));
    }

    @Override
    public float[][] byteTables() {
        return base.byteTables();
    }

    @Override
    public void readBytes(int index, byte[] dst) {
        base.readBytes(check(index), dst);
    }

    @Override
    public void read(int index, float[] dst, int offset) {
        base.read(check(index), dst, offset);
    }

    private int check(int index) {
        if (index < 0 || index >= size)
            throw new IndexOutOfBoundsException("example " + index + " outside [0, " + size + ")");
        return index;
    }

    @Override
    public String describe() {
        return base.describe() + " (first " + size + ")";
    }
}
