package org.dpsgd.train;

import org.dpsgd.accounting.DpEvent;
import org.dpsgd.backend.ClipPolicy;

/**
 * The mechanism of one private step, as one value: Poisson sampling at rate q, clipping under
 * {@code clip}, Gaussian noise of std σ·{@link ClipPolicy#sensitivity()} on every coordinate, and
 * division by the expected batch size q·N (public, unlike the realised size). {@link #event()} is
 * what the accountant is charged per step.
 *
 * @param populationSize N: every example the sampler draws from, on every process of the run
 */
public record DpMechanism(double samplingRate, double noiseMultiplier, ClipPolicy clip, long populationSize) {
    public DpMechanism {
        if (!(samplingRate > 0 && samplingRate <= 1))
            throw new IllegalArgumentException("sampling rate q must be in (0, 1], got " + samplingRate);
        if (!(noiseMultiplier > 0) || Double.isInfinite(noiseMultiplier)) {
            throw new IllegalArgumentException("noise multiplier σ must be finite and > 0, got " + noiseMultiplier);
        }
        if (clip == null) throw new IllegalArgumentException("a private mechanism needs a clip policy");
        if (populationSize <= 0)
            throw new IllegalArgumentException("population size must be > 0, got " + populationSize);
    }

    /** Standard deviation of the noise added to the clipped sum: σ times one example's largest clipped norm. */
    public double noiseStd() {
        return noiseMultiplier * clip.sensitivity();
    }

    /** q·N, the divisor of every private update. */
    public double expectedBatchSize() {
        return samplingRate * populationSize;
    }

    /** The privacy event of one step (sensitivity-normalised: the Poisson-sampled Gaussian with σ). */
    public DpEvent event() {
        return DpEvent.dpSgdStep(samplingRate, noiseMultiplier);
    }
}
