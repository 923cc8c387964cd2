package org.dpsgd.train;

/**
 * How several processes of one data-parallel run combine their clipped sums (MPI ranks, say). Each
 * process samples and clips its own shard; the one process that {@link #drawsNoise()} adds the
 * single Gaussian noise draw to its sum; then every process must hold the same noisy global sum, from
 * which each applies the same update. The trainer takes one of two paths per the model's
 * {@link org.dpsgd.backend.GradientScope}: {@link #sumAcrossProcesses} when each process drained its own clipped sum
 * (PROCESS), or {@link #shareNoisySum} when the device already summed across processes (RUN) and only
 * the noise draw remains to be shared.
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

        @Override
        public void shareNoisySum(float[] sum) {}
    };

    /** True on exactly one process of the run. */
    boolean drawsNoise();

    /** Replaces {@code sum} by its element-wise sum over every process; identical on every process afterwards. */
    void sumAcrossProcesses(float[] sum);

    /**
     * For a {@link org.dpsgd.backend.GradientScope#RUN} model: {@code sum} is already the whole run's clipped sum on every
     * process, plus the noise on the one that {@link #drawsNoise()}; replaces every process's {@code sum}
     * by that process's (a broadcast), so every process applies the same noisy update. Never sums.
     */
    default void shareNoisySum(float[] sum) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " cannot share a device-summed gradient (GradientScope.RUN); it only sums across processes");
    }
}
