package org.dpsgd.backend;

/**
 * Statistics of the real (unmasked) samples of one or more device calls. Loss and accuracy here
 * are computed on private data and are not privatised; treat them as diagnostics.
 */
public record BatchStats(long samples, double lossSum, long correct, long clipped, double normSum) {
    public static final BatchStats EMPTY = new BatchStats(0, 0, 0, 0, 0);

    public BatchStats plus(BatchStats o) {
        return new BatchStats(samples + o.samples, lossSum + o.lossSum, correct + o.correct, clipped + o.clipped, normSum + o.normSum);
    }

    public double meanLoss() { return samples == 0 ? Double.NaN : lossSum / samples; }
    public double accuracy() { return samples == 0 ? Double.NaN : (double) correct / samples; }
    public double clippedFraction() { return samples == 0 ? Double.NaN : (double) clipped / samples; }
    public double meanNorm() { return samples == 0 ? Double.NaN : normSum / samples; }
}
