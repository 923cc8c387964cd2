package org.dpsgd.train;

/**
 * How several processes of one data-parallel run combine their clipped sums (MPI ranks, say). Each
 * process samples and clips its own shard; the one process that {@link #drawsNoise()} adds the
 * single Gaussian noise draw to its local sum; {@link #sumAcrossProcesses} then leaves every
 * process with the same noisy global sum, from which each applies the same update.
 */
public interface GradientReduction {
    /** A single process: it draws the noise and its sum is already the global one. */
    GradientReduction SINGLE_PROCESS = new GradientReduction() {
        @Override
        public boolean drawsNoise() {
            return true;
        }

        @Override
        public void sumAcrossProcesses(float[] sum) {}
    };

    /** True on exactly one process of the run. */
    boolean drawsNoise();

    /** Replaces {@code sum} by its element-wise sum over every process; identical on every process afterwards. */
    void sumAcrossProcesses(float[] sum);
}
