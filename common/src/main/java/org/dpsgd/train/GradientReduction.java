package org.dpsgd.train;

/**
 * How several processes of one data-parallel run combine their clipped sums (MPI ranks, say). Each
 * process samples and clips its own shard; the clipped sums are combined in float64, the one process
 * that {@link #drawsNoise()} adds the single Gaussian noise draw to the float64 global sum and rounds
 * it, and every process then holds that same noisy global sum, from which each applies the same
 * update. Per the model's {@link org.dpsgd.backend.GradientScope}: when each process drained its own
 * clipped sum (PROCESS) the trainer calls {@link #sumAcrossProcesses} (float64, before the noise) and
 * then {@link #shareNoisySum}; when the device already summed across processes (RUN) only
 * {@link #shareNoisySum}. Nothing is summed after the noise, so every rounding after it is
 * post-processing.
 */
public interface GradientReduction {
    /** A single process: it draws the noise and its sum is already the global one. */
    GradientReduction SINGLE_PROCESS = new GradientReduction() {
        @Override
        public boolean drawsNoise() {
            return true;
        }

        @Override
        public void sumAcrossProcesses(double[] sum) {}

        @Override
        public void sumAcrossProcesses(double[] sum, int from, int to) {}

        @Override
        public void shareNoisySum(float[] sum) {}
    };

    /** True on exactly one process of the run. */
    boolean drawsNoise();

    /** P: how many processes' sums {@link #sumAcrossProcesses} adds (1 for a single process); the clip margin counts its roundings. */
    default int processes() {
        return 1;
    }

    /**
     * Replaces {@code sum} (this process's float64 clipped sum, no noise yet) by its element-wise
     * float64 sum over every process; identical on every process afterwards.
     */
    void sumAcrossProcesses(double[] sum);

    /**
     * As {@link #sumAcrossProcesses(double[])} on {@code sum[from .. to)} alone: the trainer sums its
     * float64 clipped sum piece by piece (every process cuts the same pieces, in the same order), each
     * before any noise goes on it. Element-wise, so the pieces give the whole vector's values. This
     * default copies the piece into an array of its own (the piece's length) unless it is the whole
     * array.
     */
    default void sumAcrossProcesses(double[] sum, int from, int to) {
        if (from == 0 && to == sum.length) {
            sumAcrossProcesses(sum);
            return;
        }
        double[] piece = java.util.Arrays.copyOfRange(sum, from, to);
        sumAcrossProcesses(piece);
        System.arraycopy(piece, 0, sum, from, piece.length);
    }

    /**
     * Replaces every process's {@code sum} by that of the process that {@link #drawsNoise()} (a
     * broadcast): there it is the whole run's clipped sum plus the noise, rounded to float. Never sums.
     */
    void shareNoisySum(float[] sum);
}
