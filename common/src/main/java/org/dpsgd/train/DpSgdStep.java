package org.dpsgd.train;

import org.dpsgd.noise.NoiseSource;
import org.dpsgd.optim.Optimizer;
import org.dpsgd.optim.TrainableMask;

/**
 * The arithmetic of one update, written once for every backend.
 *
 * <p>Private: g = (Σ_i clip_C(g_i) + N(0, σ²C²)) / (q·N) on trainable coordinates (frozen ones
 * are zeroed), then the optimizer. The noise is added to the float64 clipped sum and the result
 * is rounded to float once, after it, so the rounding is post-processing. The divisor is the EXPECTED batch size q·N: the realised
 * Poisson size L is not an argument here at all, because dividing by it would publish L through
 * the update and the accountant does not pay for that.
 *
 * <p>Non-private baseline: g = Σ_i g_i / L (no clipping, no noise).
 */
public final class DpSgdStep {
    private final NoiseSource noise;
    private final Optimizer optimizer;
    private final TrainableMask mask;

    /**
     * The update with {@code noise} (std σ·C is passed per call), {@code optimizer} and the trained coordinates of
     * {@code mask}; frozen coordinates get neither noise nor updates.
     */
    public DpSgdStep(NoiseSource noise, Optimizer optimizer, TrainableMask mask) {
        this.noise = noise;
        this.optimizer = optimizer;
        this.mask = mask;
    }

    /**
     * @param clippedSum Σ clip_C(g_i) over the sampled examples, in float64 as the backend drained it;
     *     the noise is added to it (overwritten with the noisy sum) before anything is rounded to float
     * @param expectedBatchSize q·N
     */
    public void privateUpdate(
            float[] params,
            double[] clippedSum,
            double clipNorm,
            double noiseMultiplier,
            double expectedBatchSize,
            double lr) {
        if (!(clipNorm > 0) || !(noiseMultiplier > 0) || !(expectedBatchSize > 0)) {
            throw new IllegalArgumentException("private update needs C > 0, σ > 0 and q·N > 0; got C=" + clipNorm
                    + ", σ=" + noiseMultiplier + ", q·N=" + expectedBatchSize);
        }
        float[] noisy = new float[clippedSum.length];
        addNoise(clippedSum, noiseMultiplier * clipNorm, noisy);
        applyPrivate(params, noisy, expectedBatchSize, lr);
    }

    /**
     * Writes into {@code noisy} the float64 clipped sum plus N(0, std²) on every trainable
     * coordinate, rounded to float once, after the noise (0 on frozen coordinates, which are also
     * zeroed in {@code clippedSum}): the clipped sum is never rounded before the noise, so the
     * rounding is post-processing and the sensitivity is that of the float64 sum (docs/core.md,
     * "Float margin", item 5). One pass per coordinate ({@link NoiseSource#addGaussianRounded}).
     */
    public void addNoise(double[] clippedSum, double std, float[] noisy) {
        if (!(std > 0) || Double.isInfinite(std))
            throw new IllegalArgumentException("noise std must be finite and > 0, got " + std);
        checkLength(clippedSum.length);
        checkLength(noisy.length);
        mask.zeroFrozen(clippedSum);
        mask.zeroFrozen(noisy);
        for (int r = 0; r < mask.ranges(); r++)
            noise.addGaussianRounded(clippedSum, noisy, mask.from(r), mask.to(r), std);
    }

    /** Divides the noisy sum by q·N and takes the optimizer step. */
    public void applyPrivate(float[] params, float[] noisySum, double expectedBatchSize, double lr) {
        if (!(expectedBatchSize > 0)) throw new IllegalArgumentException("q·N must be > 0, got " + expectedBatchSize);
        check(params, noisySum);
        scale(noisySum, 1.0 / expectedBatchSize);
        optimizer.step(params, noisySum, lr);
    }

    /** Non-private baseline; with no examples the step is skipped (the mean gradient is undefined). */
    public boolean nonPrivateUpdate(float[] params, float[] sum, int realizedBatchSize, double lr) {
        check(params, sum);
        if (realizedBatchSize == 0) return false;
        mask.zeroFrozen(sum);
        scale(sum, 1.0 / realizedBatchSize);
        optimizer.step(params, sum, lr);
        return true;
    }

    private void checkLength(int length) {
        if (length != mask.size())
            throw new IllegalArgumentException(
                    "gradient length " + length + " differs from the model's " + mask.size());
    }

    private void check(float[] params, float[] grad) {
        if (params.length != mask.size() || grad.length != mask.size()) {
            throw new IllegalArgumentException("parameter/gradient length " + params.length + "/" + grad.length
                    + " differs from the model's " + mask.size());
        }
    }

    private void scale(float[] v, double s) {
        for (int r = 0; r < mask.ranges(); r++) {
            for (int i = mask.from(r); i < mask.to(r); i++) v[i] = (float) (v[i] * s);
        }
    }
}
