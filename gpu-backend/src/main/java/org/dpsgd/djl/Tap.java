package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * What one parametrised layer's op records on the {@link Tape} for the book-keeping strategy (each
 * {@link LayerRule} with parameters has its own, next to its op). All arithmetic here is float64
 * (inputs are cast up once), so norms, slack bounds and the clipped sum obey {@link ClipBound}.
 */
interface Tap {
    /**
     * Right after the backward pass, while the pass's arrays are still open: takes what {@link #measure}
     * and {@link #accumulateClipped} read (leaf gradients, and inputs detached from the autograd graph,
     * {@link Tape#alias}) and returns those arrays. The strategy then closes every other array of the
     * forward and backward pass, and with them the graph, whose nodes hold each leaf and so its gradient
     * until the step ends; the tap closes what it took as soon as its last use is done (issue 12 §3).
     */
    List<NDArray> harvest();

    /**
     * After {@link #harvest}: adds each trainable parameter's per-slot squared gradient norm [slots]
     * to {@code norms}, with error bounds wherever that gradient is not formed per slot.
     */
    void measure(SlotNorms norms);

    /** Adds Σ_i c_i · (gradient of slot i) of each trainable parameter to its accumulator, c per the parameter's group. */
    void accumulateClipped(ClipFactors factors);

    /**
     * The arrays {@link #measure} made that {@link #accumulateClipped} still reads (the strategy
     * runs each phase of each tap in its own {@link TapScope}: everything else {@code measure}
     * creates is freed as soon as it returns). Kept small on purpose: a tap keeps per-sample
     * gradients only where they are formed anyway and smaller than the tensors they come from, and
     * recomputes the rest from the step's activations and output gradients.
     */
    List<NDArray> kept();

    /**
     * The indices in the {@link ParameterStore} of the parameters whose accumulators
     * {@link #accumulateClipped} may write (frozen ones included; no -1). {@link TapPhases} runs two
     * taps' clipped sums on different threads only if these are disjoint.
     */
    int[] parameters();
}
