package org.dpsgd.optim;

/** Updates a flat parameter vector in place from a (noisy, scaled) gradient; frozen coordinates are untouched. */
public interface Optimizer {
    /** The config name of this optimizer: "sgd", "adam" or "adamw". */
    String name();

    /** One step at learning rate {@code lr}. {@code grad} is read, never kept. */
    void step(float[] params, float[] grad, double lr);

    /** A copy of the step count and buffers (momentum, Adam moments) for a checkpoint. */
    OptimizerState exportState();

    /**
     * Continues from a checkpoint's state. Throws IllegalArgumentException when it was saved by another optimizer or for
     * another parameter count, rather than silently starting fresh.
     */
    void importState(OptimizerState state);
}
