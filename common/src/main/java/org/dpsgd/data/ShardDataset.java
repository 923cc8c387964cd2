package org.dpsgd.data;

import org.dpsgd.model.Shape;

/**
 * Examples [offset, offset + size) of a dataset of {@link #population()} examples: one rank's contiguous
 * shard in a data-parallel run (rank r of W holds [⌊r·N/W⌋, ⌊(r+1)·N/W⌋), see {@link #range}). Local
 * index i is global index offset + i. Either a view of the whole dataset held elsewhere
 * ({@link #forRank}), or a dataset that holds only the shard's examples ({@link #holding}).
 */
public final class ShardDataset implements Dataset {
    private final Dataset base;
    private final int baseOffset; // where local index 0 is in base: offset for a view, 0 when base holds only the shard
    private final int offset;
    private final int size;
    private final int population;
    private final String source;

    /** A view of examples [offset, offset + size) of {@code base}, which holds all of them. */
    public ShardDataset(Dataset base, int offset, int size) {
        this(base, offset, offset, size, base.size(), base.describe());
        if (offset < 0 || size <= 0 || (long) offset + size > base.size()) {
            throw new IllegalArgumentException("shard [" + offset + ", " + ((long) offset + size)
                    + ") is not within the " + base.size() + " examples of " + base.describe());
        }
    }

    private ShardDataset(Dataset base, int baseOffset, int offset, int size, int population, String source) {
        this.base = base;
        this.baseOffset = baseOffset;
        this.offset = offset;
        this.size = size;
        this.population = population;
        this.source = source;
    }

    /**
     * The shard [offset, offset + held.size()) of a dataset of {@code population} examples, where
     * {@code held} holds exactly those examples (read by byte range).
     *
     * @param source the whole dataset's description
     */
    public static ShardDataset holding(Dataset held, int offset, int population, String source) {
        if (offset < 0 || held.size() <= 0 || (long) offset + held.size() > population) {
            throw new IllegalArgumentException("shard [" + offset + ", " + ((long) offset + held.size())
                    + ") is not within the " + population + " examples of " + source);
        }
        return new ShardDataset(held, 0, offset, held.size(), population, source);
    }

    /** Rank {@code rank}'s shard of {@code base} among {@code ranks}; refuses shards that would be empty. */
    public static ShardDataset forRank(Dataset base, int rank, int ranks) {
        int[] r = range(base.size(), rank, ranks, base.describe());
        return new ShardDataset(base, r[0], r[1] - r[0]);
    }

    /**
     * Rank {@code rank}'s examples [from, to) of {@code n} among {@code ranks}: {⌊rank·n/ranks⌋,
     * ⌊(rank+1)·n/ranks⌋}; refuses a shard that would be empty.
     *
     * @param what the dataset's description, for the error
     */
    public static int[] range(int n, int rank, int ranks, String what) {
        if (ranks <= 0 || rank < 0 || rank >= ranks)
            throw new IllegalArgumentException("rank " + rank + " is not within [0, " + ranks + ")");
        int from = (int) ((long) rank * n / ranks);
        int to = (int) ((long) (rank + 1) * n / ranks);
        if (to <= from) {
            throw new IllegalArgumentException("the training set " + what + " has " + n + " examples, too few for "
                    + ranks + " ranks (each needs at least one); use fewer ranks");
        }
        return new int[] {from, to};
    }

    /** The global index of this shard's first example. */
    public int offset() {
        return offset;
    }

    /** N of the whole dataset this is a shard of (what q = B/N and the accountant use). */
    public int population() {
        return population;
    }

    /** The whole dataset's description (without the shard range). */
    public String source() {
        return source;
    }

    /** The dataset behind this shard: the whole set for a view, only the shard's examples for {@link #holding}. */
    Dataset base() {
        return base;
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
        return base.label(baseOffset + check(index));
    }

    @Override
    public float[][] byteTables() {
        return base.byteTables();
    }

    @Override
    public void readBytes(int index, byte[] dst) {
        base.readBytes(baseOffset + check(index), dst);
    }

    @Override
    public void read(int index, float[] dst, int off) {
        base.read(baseOffset + check(index), dst, off);
    }

    private int check(int index) {
        if (index < 0 || index >= size)
            throw new IndexOutOfBoundsException("example " + index + " outside [0, " + size + ")");
        return index;
    }

    @Override
    public String describe() {
        return source + " (shard [" + offset + ", " + (offset + size) + "))";
    }
}
