package org.dpsgd.sampling;

import java.util.function.Consumer;

/** Chooses the sampling randomness from the config's privacy.noise mode. */
public final class RandomSources {
    private RandomSources() {}

    /** The sampling randomness of secure runs: ChaCha20 keyed from the JDK's DRBG. */
    public static RandomSource secure() {
        return SecureRandomSource.create();
    }

    /** Seeded sampling randomness (privacy.noise: fast-insecure), announced to {@code warn}. */
    public static RandomSource seeded(long seed, Consumer<String> warn) {
        warnInsecure(seed, warn);
        return new SeededRandomSource(seed);
    }

    /**
     * Fast-insecure sampling for the process holding examples [offset, offset + shardSize) of
     * {@code population}, in which example g joins step t by a function of (seed, t, g) only
     * ({@link CounterRandomSource}): any split of the set over processes samples the same batches.
     * Warns as {@link #seeded} does.
     */
    public static RandomSource counterBased(
            long seed, long population, long offset, int shardSize, Consumer<String> warn) {
        return counterBased(seed, population, offset, shardSize, 0, warn);
    }

    /**
     * As {@link #counterBased(long, long, long, int, Consumer)} for the process that also samples
     * {@code extras} extra examples (audit canaries) after its shard in every step.
     */
    public static RandomSource counterBased(
            long seed, long population, long offset, int shardSize, int extras, Consumer<String> warn) {
        warnInsecure(seed, warn);
        return CounterRandomSource.shard(seed, population, offset, shardSize, extras);
    }

    private static void warnInsecure(long seed, Consumer<String> warn) {
        warn.accept("WARNING: INSECURE SAMPLING: batches are drawn from a seeded generator (seed " + seed
                + "); anyone with the seed knows every batch, so the reported ε does not hold; not for private data");
    }
}
