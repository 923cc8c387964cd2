package org.dpsgd.backend;

/**
 * A backend's in-place update of the non-private baseline, where the parameters live: plain SGD (no
 * momentum, no weight decay) from the device's own gradient accumulator, so the step needs no drain
 * of the sum to the host, no host update and no write of the parameters back. Offered through
 * {@link TrainableModel#deviceSgd()}; only ever applied to an unclipped, un-noised sum (the trainer's
 * non-private mode and {@code dpsgd bench}'s non-private row). A private step never uses it: its
 * noise is drawn on the host and added to the drained float64 sum.
 */
public interface DeviceSgd {
    /**
     * Sets p ← p − lr · (S / {@code realizedBatchSize}) for every trainable parameter p, where S is the
     * sum {@link TrainableModel#accumulateUnclipped} collected since the last drain, and empties the
     * accumulator (as a drain does). The arithmetic follows the host's {@code DpSgdStep.nonPrivateUpdate}
     * with plain SGD; a backend documents how closely (bit for bit, or within which rounding).
     *
     * @throws IllegalStateException if the accumulator holds clipped sums (a private step's, which
     *     must get its noise on the host first)
     */
    void step(int realizedBatchSize, double lr);
}
