package org.dpsgd.train;

import org.dpsgd.backend.ClipPolicy;

/**
 * Examples that are part of the private dataset but not of the backend's {@code Dataset}, such as
 * an audit's gradient canaries. The trainer's Poisson sampler draws them together with the dataset
 * (as indices N … N+count−1, each with probability q), and a sampled one adds its clipped gradient
 * to the step's clipped sum on the host, before the noise, like any backend's clipped sum.
 */
public interface ExtraExamples {
    /** How many extra examples the sampler draws from. */
    int count();

    /**
     * Adds extra example {@code index}'s clipped gradient to {@code clippedSum} (flat, in
     * Network.parameters() order), in float64: the step's sum is not rounded before the noise. Its
     * norm must not exceed {@code clip.sensitivity()}.
     */
    void addClippedGradient(int index, double[] clippedSum, ClipPolicy clip);

    /**
     * The most extra examples whose clipped gradients can touch one coordinate: each is one host
     * float64 add there, which the clip margin counts (docs/core.md, "Float margin", item 5 (A)).
     * Default: all of them.
     */
    default int addsPerCoordinate() {
        return count();
    }
}
