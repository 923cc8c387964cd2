package org.dpsgd.sampling;

import java.nio.ByteBuffer;

/**
 * Seeded sampling randomness in which the uniform that decides whether global example g joins step t is a
 * function of (seed, t, g) alone: SplitMix64's output function of the counter t·N + g. A data-parallel
 * run whose rank holds examples [offset, offset + n) of N therefore draws, on each rank, exactly the
 * uniforms the single-process run draws for those examples, and W = 1, 2, 4… sample the same global
 * batches. Fed to {@link PoissonSampler}, which takes one uniform per example per step in index order
 * (that call pattern is what the counter assumes; {@link ShuffleSampler} is not supported).
 *
 * <p>Extra examples (an audit's canaries, held by one process and drawn after its dataset examples,
 * {@code org.dpsgd.train.ExtraExamples}) have their own counter space: extra j at step t is keyed on
 * (seed, t, j) under a second key, so canaries neither shift the examples' uniforms (the step boundary
 * stays put) nor depend on which process holds them.
 *
 * <p>Anyone with the seed knows every batch: for the labelled fast-insecure mode only.
 */
public final class CounterRandomSource implements RandomSource {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private final long key;
    private final long population;
    private final long offset;
    private final int shardSize;
    private final int extras;
    private final long extraKey;
    private long step;
    private int index;

    private CounterRandomSource(long seed, long population, long offset, int shardSize, int extras) {
        if (population <= 0 || shardSize <= 0 || offset < 0 || offset + shardSize > population) {
            throw new IllegalArgumentException(
                    "shard [" + offset + ", " + (offset + shardSize) + ") is not within a population of " + population);
        }
        if (extras < 0) throw new IllegalArgumentException("extra examples must be >= 0, got " + extras);
        this.key = mix(seed ^ 0x5DEECE66DL);
        this.extraKey = mix(seed ^ 0x3C6EF372FE94F82AL);
        this.population = population;
        this.offset = offset;
        this.shardSize = shardSize;
        this.extras = extras;
    }

    /** The source of a single process drawing for all {@code n} examples. */
    public static CounterRandomSource whole(long seed, int n) {
        return new CounterRandomSource(seed, n, 0, n, 0);
    }

    /** The source of the process that holds examples [offset, offset + shardSize) of {@code population}. */
    public static CounterRandomSource shard(long seed, long population, long offset, int shardSize) {
        return new CounterRandomSource(seed, population, offset, shardSize, 0);
    }

    /**
     * As {@link #shard(long, long, long, int)} for the process that also holds {@code extras} extra
     * examples, which its sampler draws after its shard in every step.
     */
    public static CounterRandomSource shard(long seed, long population, long offset, int shardSize, int extras) {
        return new CounterRandomSource(seed, population, offset, shardSize, extras);
    }

    /** The uniform bits of global example {@code example} at 0-based step {@code step}. */
    public long bitsFor(long step, long example) {
        return mix(key + (step * population + example + 1) * GOLDEN);
    }

    /** The uniform bits of extra example {@code extra} (0-based) at 0-based step {@code step}. */
    public long bitsForExtra(long step, long extra) {
        return mix(extraKey + ((step << 32) + extra + 1) * GOLDEN);
    }

    @Override
    public long nextLong() {
        long bits = index < shardSize ? bitsFor(step, offset + index) : bitsForExtra(step, index - shardSize);
        if (++index == shardSize + extras) {
            index = 0;
            step++;
        }
        return bits;
    }

    @Override
    public boolean isSecure() {
        return false;
    }

    @Override
    public byte[] exportState() {
        return ByteBuffer.allocate(16).putLong(step).putLong(index).array();
    }

    @Override
    public void restoreState(byte[] state) {
        if (state == null || state.length != 16) {
            throw new IllegalArgumentException(
                    "the checkpoint's sampler state (" + (state == null ? "none" : state.length + " bytes")
                            + ") is not a counter sampler's; it was written by another sampling source (resume it with the dpsgd that wrote it)");
        }
        ByteBuffer b = ByteBuffer.wrap(state);
        long s = b.getLong();
        long i = b.getLong();
        if (s < 0 || i < 0 || i >= shardSize + extras)
            throw new IllegalArgumentException("counter sampler state (step " + s + ", index " + i
                    + ") does not fit a shard of " + shardSize + (extras > 0 ? " and " + extras + " extras" : ""));
        step = s;
        index = (int) i;
    }

    /** SplitMix64's finaliser (Steele, Lea and Flood 2014). */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return "CounterRandomSource(SplitMix64 of (seed, step, example))";
    }
}
