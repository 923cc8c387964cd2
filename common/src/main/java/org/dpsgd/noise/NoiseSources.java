package org.dpsgd.noise;

import java.util.function.Consumer;

/** Creates the noise source named by privacy.noise; the insecure one always announces itself. */
public final class NoiseSources {
    public static final String INSECURE_WARNING =
            "WARNING: INSECURE NOISE: privacy.noise is fast-insecure: the noise is "
                    + "reproducible from the seed, so it can be subtracted and the model has NO privacy; not for private data";

    private NoiseSources() {}

    /** Secure (also when {@code mode} is null) or fast-insecure (emits {@link #INSECURE_WARNING} to {@code warn}). */
    public static NoiseSource create(NoiseMode mode, long seed, Consumer<String> warn) {
        return create(mode, seed, warn, false);
    }

    /**
     * As {@link #create(NoiseMode, long, Consumer)}; with {@code prefetch}, secure noise draws the next
     * step's noise in the background (for backends that leave the host's cores idle, see
     * {@code Backend.computesOnHostCores}). Seeded noise is never prefetched: its resume state is a call count.
     */
    public static NoiseSource create(NoiseMode mode, long seed, Consumer<String> warn, boolean prefetch) {
        return create(mode, seed, warn, prefetch, NoisePool.allCores());
    }

    /**
     * As {@link #create(NoiseMode, long, Consumer, boolean)}, drawing on {@code pool}'s threads (see
     * {@link NoisePool#recommendedThreads}); the values do not depend on the pool.
     */
    public static NoiseSource create(
            NoiseMode mode, long seed, Consumer<String> warn, boolean prefetch, NoisePool pool) {
        if (mode == null || mode == NoiseMode.SECURE)
            return prefetch ? SecureGaussianNoise.createWithPrefetch(pool) : SecureGaussianNoise.create(pool);
        warn.accept(INSECURE_WARNING + " (seed " + seed + ")");
        return new FastInsecureGaussianNoise(seed, pool);
    }

    /**
     * As {@link #create(NoiseMode, long, Consumer, boolean)} with the backend setting's mode ({@link NoisePrefetch}),
     * on every core; {@link NoisePrefetch#IDLE} draws on a pool of its own at the idle scheduling class. Seeded noise
     * is never prefetched, whatever the mode.
     *
     * @throws IllegalArgumentException for {@link NoisePrefetch#IDLE} where threads cannot take that class
     */
    public static NoiseSource create(NoiseMode mode, long seed, Consumer<String> warn, NoisePrefetch prefetch) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (prefetch == NoisePrefetch.IDLE && (mode == null || mode == NoiseMode.SECURE))
            return SecureGaussianNoise.createWithIdlePrefetch(cores);
        return create(mode, seed, warn, prefetch != NoisePrefetch.OFF, NoisePool.of(cores));
    }
}
