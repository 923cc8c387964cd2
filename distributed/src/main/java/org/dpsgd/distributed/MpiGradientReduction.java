package org.dpsgd.distributed;

import org.dpsgd.train.GradientReduction;

/**
 * The cross-process sum of a data-parallel DP-SGD step: one float64 allreduce of the ranks' clipped
 * sums (before any noise), then rank 0 alone adds the one Gaussian noise vector to that float64 sum
 * and rounds it to float, and one broadcast gives every rank rank 0's noisy sum. So the noise is
 * added to the unrounded global sum and nothing is summed after it. When the device already summed
 * across ranks (the IPU backend under {@code poprun}: GCL over the replicas of every instance,
 * {@link org.dpsgd.backend.GradientScope#RUN}), the trainer skips the allreduce and only broadcasts.
 * Privacy arithmetic stays in the trainer; this class only decides who draws and moves the numbers.
 */
public final class MpiGradientReduction implements GradientReduction {
    private final Communicator comm;

    /** @param comm the ranks of the run; rank 0 draws the noise */
    public MpiGradientReduction(Communicator comm) {
        this.comm = comm;
    }

    @Override
    public boolean drawsNoise() {
        return comm.rank() == 0;
    }

    @Override
    public int processes() {
        return comm.size();
    }

    /**
     * One float64 allreduce of the whole vector, before the noise (the trainer's whole-buffer mode: audit canaries or a
     * backend that drains only whole); piece mode calls the ranged overload once per piece instead (8·P bytes per
     * logical step either way).
     */
    @Override
    public void sumAcrossProcesses(double[] sum) {
        comm.allreduceSum(sum);
    }

    /** One broadcast from rank 0 of its noisy global sum (P floats per logical step). */
    @Override
    public void shareNoisySum(float[] sum) {
        comm.broadcast(sum, 0);
    }
}
