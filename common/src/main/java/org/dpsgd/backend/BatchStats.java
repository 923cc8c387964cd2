package org.dpsgd.backend;

/**
 * Statistics of the real (unmasked) samples of one or more device calls. Loss and accuracy here
 * are computed on private data and are not privatised; treat them as diagnostics.
 *
 * <p>{@code nonFinite} counts real examples whose per-sample gradient norm was NaN or infinite.
 * Every backend treats such an example the same way: it contributes exactly 0 to the clipped sum
 * (selected out, never multiplied by 0, since 0 × NaN = NaN), it is counted in {@code samples}
 * and here, not in {@code clipped}, and its norm, loss and correctness are left out of
 * {@code normSum}, {@code lossSum} and {@code correct} (they may be NaN). Only this
 * aggregate count is reported, never which example it was.
 */
public record BatchStats(long samples, double lossSum, long correct, long clipped, double normSum, long nonFinite) {
    public static final BatchStats EMPTY = new BatchStats(0, 0, 0, 0, 0, 0);

    /** Statistics with no non-finite example (the form every backend used before {@code nonFinite} existed). */
    public BatchStats(long samples, double lossSum, long correct, long clipped, double normSum) {
        this(samples, lossSum, correct, clipped, normSum, 0);
    }

    /** The sum of these statistics and {@code o}'s (every count and sum added). */
    public BatchStats plus(BatchStats o) {
        return new BatchStats(
                samples + o.samples,
                lossSum + o.lossSum,
                correct + o.correct,
                clipped + o.clipped,
                normSum + o.normSum,
                nonFinite + o.nonFinite);
    }

    /** Mean loss over the real samples (NaN when there are none); not privatised. */
    public double meanLoss() {
        return samples == 0 ? Double.NaN : lossSum / samples;
    }

    /** Fraction of the real samples classified correctly, in [0, 1] (NaN when there are none); not privatised. */
    public double accuracy() {
        return samples == 0 ? Double.NaN : (double) correct / samples;
    }

    /** Fraction of the real samples whose gradient was clipped, in [0, 1] (NaN when there are none); not privatised. */
    public double clippedFraction() {
        return samples == 0 ? Double.NaN : (double) clipped / samples;
    }

    /** Mean unclipped per-sample gradient L2 norm over the real samples (NaN when there are none); not privatised. */
    public double meanNorm() {
        return samples == 0 ? Double.NaN : normSum / samples;
    }
}
