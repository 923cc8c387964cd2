package org.dpsgd.distributed;

import org.dpsgd.train.GradientReduction;

/**
 * The cross-process sum of a data-parallel DP-SGD step: rank 0 alone draws the one Gaussian noise vector
 * (the trainer adds it to rank 0's local clipped sum), then one allreduce per logical step leaves every
 * rank with Σ_ranks (local clipped sum) + noise, the same on every rank. When the device already summed
 * across ranks (the IPU backend under {@code poprun}: GCL over the replicas of every instance,
 * {@link org.dpsgd.backend.GradientScope#RUN}), the trainer calls {@link #shareNoisySum} instead: rank 0's
 * global sum + noise is broadcast, with no second sum. Privacy arithmetic stays in the trainer; this
 * class only decides who draws and moves the numbers.
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
    public void sumAcrossProcesses(float[] sum) {
        comm.allreduceSum(sum);
    }

    /** One broadcast from rank 0 of its noisy global sum (P floats per logical step). */
    @Override
    public void shareNoisySum(float[] sum) {
        comm.broadcast(sum, 0);
    }
}
