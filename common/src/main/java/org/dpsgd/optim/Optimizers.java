package org.dpsgd.optim;

import org.dpsgd.config.OptimizerConfig;

/** Builds the optimizer named in the config. */
public final class Optimizers {
    private Optimizers() {}

    /**
     * A fresh optimizer as named in {@code c} (sgd, adam, adamw), updating only the coordinates {@code mask} trains.
     */
    public static Optimizer create(OptimizerConfig c, TrainableMask mask) {
        return switch (c.name()) {
            case SGD -> new Sgd(c.momentum(), c.nesterov(), c.weightDecay(), mask);
            case ADAM -> new Adam(c.beta1(), c.beta2(), c.eps(), c.weightDecay(), false, mask);
            case ADAMW -> new Adam(c.beta1(), c.beta2(), c.eps(), c.weightDecay(), true, mask);
        };
    }

    static void checkState(OptimizerState s, String name, int size) {
        if (!s.name().equals(name)) {
            throw new IllegalArgumentException(
                    "optimizer state is for '" + s.name() + "' but this run uses '" + name + "'");
        }
        for (var e : s.buffers().entrySet()) {
            if (e.getValue().length != size) {
                throw new IllegalArgumentException("optimizer buffer " + e.getKey() + " has " + e.getValue().length
                        + " entries, the model has " + size + " parameters");
            }
        }
    }
}
