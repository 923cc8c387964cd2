package org.dpsgd.distributed;

import org.dpsgd.train.GradientReduction;

/**
 * The cross-process sum of a data-parallel DP-SGD step: rank 0 alone draws the one Gaussian noise vector
 * (the trainer adds it to rank 0's local clipped sum), then one allreduce per logical step leaves every
 * rank with Σ_ranks (local clipped sum) + noise, the same on every rank. Privacy arithmetic stays in the
 * trainer; this class only decides who draws and moves the numbers.
 */
public final class MpiGradientReduction implements GradientReduction {
    private final Communicator comm;

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
}
