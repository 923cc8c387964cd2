package org.dpsgd.sampling;

/** Draws the example indices of one logical batch. */
public interface BatchSampler {
    /** Indices in [0, N), no duplicates, ascending for Poisson; possibly empty. */
    int[] next();

    /** True only for Poisson sampling, the scheme the accountant's ε is computed for. */
    boolean matchesAccounting();

    /** State for resuming with a seeded source; null when the randomness is secure (never persisted). */
    SamplerState exportState();

    /**
     * Continues a seeded sampler from {@link #exportState()}'s state. A sampler over secure randomness refuses
     * (IllegalStateException): its key is never persisted, so a resumed run draws fresh.
     */
    void restoreState(SamplerState state);
}
