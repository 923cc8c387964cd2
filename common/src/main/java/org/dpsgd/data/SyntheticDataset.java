package org.dpsgd.data;

import java.util.SplittableRandom;
import org.dpsgd.model.Shape;

/**
 * A seeded, learnable stand-in for real data (benchmarks and tests): every class has a fixed random
 * prototype image, and example i is its class prototype plus Gaussian noise. Examples are generated
 * on demand from (seed, split, i), so any size costs no memory and every read is reproducible.
 */
public final class SyntheticDataset implements Dataset {
    private final long seed;
    private final long splitSalt;
    private final int size;
    private final Shape shape;
    private final int numClasses;
    private final float[][] prototypes;
    private final double noise;

    /** @param split a salt that separates train (0) and test (1) examples drawn from the same classes */
    public SyntheticDataset(long seed, int split, int size, Shape shape, int numClasses, double noise) {
        if (size <= 0) throw new IllegalArgumentException("synthetic dataset size must be > 0, got " + size);
        if (numClasses < 2)
            throw new IllegalArgumentException("synthetic dataset needs >= 2 classes, got " + numClasses);
        if (!(noise >= 0)) throw new IllegalArgumentException("synthetic noise must be >= 0, got " + noise);
        this.seed = seed;
        this.splitSalt = mix(seed + 0x9E3779B97F4A7C15L * (split + 1));
        this.size = size;
        this.shape = shape;
        this.numClasses = numClasses;
        this.noise = noise;
        SplittableRandom r = new SplittableRandom(mix(seed));
        this.prototypes = new float[numClasses][shape.size()];
        for (float[] p : prototypes) for (int i = 0; i < p.length; i++) p[i] = (float) r.nextGaussian();
    }

    @Override
    public int size() {
        return size;
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
        check(index);
        return (int) Long.remainderUnsigned(mix(splitSalt ^ (index * 0xBF58476D1CE4E5B9L)), numClasses);
    }

    @Override
    public void read(int index, float[] dst, int offset) {
        float[] p = prototypes[label(index)];
        SplittableRandom r = new SplittableRandom(mix(splitSalt + index));
        for (int i = 0; i < p.length; i++) dst[offset + i] = (float) (p[i] + noise * r.nextGaussian());
    }

    private void check(int index) {
        if (index < 0 || index >= size)
            throw new IndexOutOfBoundsException("example " + index + " outside [0, " + size + ")");
    }

    /** SplitMix64's finaliser: decorrelates nearby seeds. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String describe() {
        return "synthetic(seed " + seed + ", " + size + " x " + shape + ", " + numClasses + " classes)";
    }
}
