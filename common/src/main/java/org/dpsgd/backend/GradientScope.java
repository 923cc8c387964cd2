package org.dpsgd.backend;

/**
 * Which processes' examples a model's drained clipped sum ({@link TrainableModel#drainGradientSum}) covers.
 * It decides what the host does between processes of a data-parallel run: sum the processes' sums, or
 * only share the one noise draw, never both (summing an already global sum would multiply every
 * example's contribution, and so the sensitivity, by the number of processes).
 */
public enum GradientScope {
    /** This process's examples only: the host sums across processes (one allreduce per logical step). */
    PROCESS,
    /**
     * Every process's examples: the device already summed across processes (GCL over the replicas of all
     * {@code poprun} instances); the host only shares the noisy sum of the process that draws the noise.
     */
    RUN
}
