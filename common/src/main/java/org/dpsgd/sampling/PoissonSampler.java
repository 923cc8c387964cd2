package org.dpsgd.sampling;

import java.util.Arrays;

/**
 * Poisson sampling: each of the N examples joins the batch independently with probability q, so
 * the batch size is Binomial(N, q) and may be 0. This is the sampling the accountants' subsampled
 * Gaussian assumes. One 53-bit uniform per example (rather than geometric skips) keeps the
 * inclusion probability exactly q up to 2^-53, which is easy to audit; cost is N draws per step.
 */
public final class PoissonSampler implements BatchSampler {
    private final int size;
    private final double rate;
    private final RandomSource random;
    private int[] buffer = new int[16];

    /**
     * Samples each of {@code datasetSize} > 0 examples with probability {@code samplingRate} in (0, 1], drawing from
     * {@code random} (secure by default: the accountant's amplification assumes unpredictable batches).
     */
    public PoissonSampler(int datasetSize, double samplingRate, RandomSource random) {
        if (datasetSize <= 0) throw new IllegalArgumentException("dataset size must be > 0, got " + datasetSize);
        if (!(samplingRate > 0 && samplingRate <= 1)) {
            throw new IllegalArgumentException("sampling rate q must be in (0, 1], got " + samplingRate);
        }
        this.size = datasetSize;
        this.rate = samplingRate;
        this.random = random;
    }

    @Override
    public int[] next() {
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (random.nextDouble() < rate) {
                if (n == buffer.length) buffer = Arrays.copyOf(buffer, n * 2);
                buffer[n++] = i;
            }
        }
        return Arrays.copyOf(buffer, n);
    }

    @Override
    public boolean matchesAccounting() {
        return true;
    }

    @Override
    public SamplerState exportState() {
        byte[] s = random.exportState();
        return s == null ? null : new SamplerState(s, null, 0);
    }

    @Override
    public void restoreState(SamplerState state) {
        random.restoreState(state.random());
    }

    /** The sampling rate q. */
    public double rate() {
        return rate;
    }
}
