package org.dpsgd.djl;

/**
 * What one parametrised layer's op records on the {@link Tape} for the book-keeping strategy (each
 * {@link LayerRule} with parameters has its own, next to its op). All arithmetic here is float64
 * (inputs are cast up once), so norms, slack bounds and the clipped sum obey {@link ClipBound}.
 */
interface Tap {
    /**
     * After the backward pass: adds each trainable parameter's per-slot squared gradient norm [slots]
     * to {@code norms}, with error bounds wherever that gradient is not formed per slot.
     */
    void measure(SlotNorms norms);

    /** Adds Σ_i c_i · (gradient of slot i) of each trainable parameter to its accumulator, c per the parameter's group. */
    void accumulateClipped(ClipFactors factors);
}
