package org.dpsgd.data;

import org.dpsgd.model.Shape;

/**
 * Examples [offset, offset + size) of another dataset: one rank's contiguous shard in a data-parallel
 * run (rank r of W holds [⌊r·N/W⌋, ⌊(r+1)·N/W⌋), see {@link #forRank}). Local index i is global
 * index offset + i.
 */
public final class ShardDataset implements Dataset {
    private final Dataset base;
    private final int offset;
    private final int size;

    public ShardDataset(Dataset base, int offset, int size) {
        if (offset < 0 || size <= 0 || (long) offset + size > base.size()) {
            throw new IllegalArgumentException("shard [" + offset + ", " + ((long) offset + size)
                    + ") is not within the " + base.size() + " examples of " + base.describe());
        }
        this.base = base;
        this.offset = offset;
        this.size = size;
    }

    /** Rank {@code rank}'s shard of {@code base} among {@code ranks}; refuses shards that would be empty. */
    public static ShardDataset forRank(Dataset base, int rank, int ranks) {
        if (ranks <= 0 || rank < 0 || rank >= ranks)
            throw new IllegalArgumentException("rank " + rank + " is not within [0, " + ranks + ")");
        long n = base.size();
        int from = (int) (rank * n / ranks);
        int to = (int) ((rank + 1) * n / ranks);
        if (to <= from) {
            throw new IllegalArgumentException("the training set " + base.describe() + " has " + n
                    + " examples, too few for " + ranks + " ranks (each needs at least one); use fewer ranks");
        }
        return new ShardDataset(base, from, to - from);
    }

    public int offset() {
        return offset;
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
        return base.label(offset + check(index));
    }

    @Override
    public void read(int index, float[] dst, int off) {
        base.read(offset + check(index), dst, off);
    }

    private int check(int index) {
        if (index < 0 || index >= size)
            throw new IndexOutOfBoundsException("example " + index + " outside [0, " + size + ")");
        return index;
    }

    @Override
    public String describe() {
        return base.describe() + " (shard [" + offset + ", " + (offset + size) + "))";
    }
}
