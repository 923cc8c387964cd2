package org.dpsgd.sampling;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What a seeded sampler needs to continue exactly where it stopped.
 *
 * @param random the seeded random source's state
 * @param permutation the current epoch's order (shuffle sampling only; null for Poisson)
 * @param position next unread position in {@code permutation}
 */
public record SamplerState(
        @JsonProperty("random") byte[] random,
        @JsonProperty("permutation") int[] permutation,
        @JsonProperty("position") int position) {}
