package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/** One parametrised layer's record for the book-keeping strategy. */
interface Tap {
    /**
     * Per-slot squared L2 norms [slots] of this layer's trainable-parameter gradients, computed from
     * the recorded input and the output gradient (call after the backward pass).
     */
    NDArray squaredNorms();

    /** Adds sum_i c_i * (gradient of slot i) of each trainable parameter to its accumulator; c is [slots]. */
    void accumulateClipped(NDArray clipFactors);
}
