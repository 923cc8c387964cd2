package org.dpsgd.optim;

/** Updates a flat parameter vector in place from a (noisy, scaled) gradient; frozen coordinates are untouched. */
public interface Optimizer {
    String name();

    /** One step at learning rate {@code lr}. {@code grad} is read, never kept. */
    void step(float[] params, float[] grad, double lr);

    OptimizerState exportState();

    void importState(OptimizerState state);
}
