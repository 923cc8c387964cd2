package org.dpsgd.train;

/** The phases of one private step, in order; a listener sees each as it completes (for fault injection and tracing). */
public enum StepPhase {
    /** The step's examples are drawn; nothing is computed from them yet. */
    SAMPLED,
    /** The step's privacy event is durably recorded and composed. */
    CHARGED,
    /** The clipped sum of the sampled examples is complete (not yet noised: never released). */
    SUMMED,
    /** Noise is added and the update applied to the parameters. */
    UPDATED
}
