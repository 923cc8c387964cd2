package org.dpsgd.sampling;

import org.apache.commons.rng.RestorableUniformRandomProvider;
import org.apache.commons.rng.core.RandomProviderDefaultState;

/**
 * Reproducible sampling from the config seed (Commons RNG XoRoShiRo128++). Anyone who knows the
 * seed knows every batch, so amplification by subsampling does not hold against them: for the
 * labelled fast-insecure mode only.
 */
public final class SeededRandomSource implements RandomSource {
    private final RestorableUniformRandomProvider rng;

    /** XoRoShiRo128++ seeded with {@code seed}: reproducible, so for the labelled fast-insecure mode only. */
    public SeededRandomSource(long seed) {
        this.rng = org.apache.commons.rng.simple.RandomSource.XO_RO_SHI_RO_128_PP.create(seed);
    }

    @Override
    public long nextLong() {
        return rng.nextLong();
    }

    @Override
    public boolean isSecure() {
        return false;
    }

    @Override
    public byte[] exportState() {
        return ((RandomProviderDefaultState) rng.saveState()).getState();
    }

    @Override
    public void restoreState(byte[] state) {
        if (state == null)
            throw new IllegalArgumentException("no sampler state to restore (the checkpoint came from a secure run?)");
        rng.restoreState(new RandomProviderDefaultState(state));
    }

    @Override
    public String toString() {
        return "SeededRandomSource(XoRoShiRo128++)";
    }
}
