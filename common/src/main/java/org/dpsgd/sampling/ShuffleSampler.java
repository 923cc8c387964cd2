package org.dpsgd.sampling;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Fixed-size batches from a shuffled permutation, reshuffled every epoch (what most non-DP code
 * and some papers do). The accountants' ε assumes Poisson sampling and does NOT hold for this; it
 * exists only to reproduce such papers, on explicit request, and says so loudly when created.
 * A trailing partial batch is dropped, so every batch has exactly {@code batchSize} examples.
 */
public final class ShuffleSampler implements BatchSampler {
    public static final String WARNING = "WARNING: SHUFFLE SAMPLING: fixed-size batches from a shuffled order; "
            + "the reported ε is computed for Poisson sampling and does NOT hold for this run";

    private final int size;
    private final int batchSize;
    private final RandomSource random;
    private int[] permutation;
    private int position;

    /**
     * Batches of exactly {@code batchSize} in [1, datasetSize] from shuffled epochs, drawn from {@code random}; announces
     * through {@code warn} that the accountants' ε does not hold for it.
     */
    public ShuffleSampler(int datasetSize, int batchSize, RandomSource random, Consumer<String> warn) {
        if (datasetSize <= 0) throw new IllegalArgumentException("dataset size must be > 0, got " + datasetSize);
        if (batchSize <= 0 || batchSize > datasetSize) {
            throw new IllegalArgumentException(
                    "shuffle batch size must be in [1, " + datasetSize + "], got " + batchSize);
        }
        this.size = datasetSize;
        this.batchSize = batchSize;
        this.random = random;
        warn.accept(WARNING);
        reshuffle();
    }

    private void reshuffle() {
        int[] p = new int[size];
        for (int i = 0; i < size; i++) p[i] = i;
        for (int i = size - 1; i > 0; i--) { // Fisher-Yates
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        permutation = p;
        position = 0;
    }

    @Override
    public int[] next() {
        if (position + batchSize > size) reshuffle();
        int[] batch = Arrays.copyOfRange(permutation, position, position + batchSize);
        position += batchSize;
        Arrays.sort(batch);
        return batch;
    }

    @Override
    public boolean matchesAccounting() {
        return false;
    }

    @Override
    public SamplerState exportState() {
        byte[] s = random.exportState();
        return s == null ? null : new SamplerState(s, permutation.clone(), position);
    }

    @Override
    public void restoreState(SamplerState state) {
        if (state.permutation() == null || state.permutation().length != size) {
            throw new IllegalArgumentException(
                    "shuffle sampler state does not match a dataset of " + size + " examples");
        }
        random.restoreState(state.random());
        permutation = state.permutation().clone();
        position = state.position();
    }
}
