package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** Which optimizer applies the private gradient: optimizer.name. */
public enum OptimizerKind implements ConfigChoice {
    /** SGD, with optional (Nesterov) momentum and weight decay (the default). */
    SGD("sgd"),
    /** Adam, with L2 weight decay added to the gradient (as torch.optim.Adam). */
    ADAM("adam"),
    /** AdamW: Adam with decoupled weight decay. */
    ADAMW("adamw");

    private final String configName;

    OptimizerKind(String configName) {
        this.configName = configName;
    }

    @Override
    @JsonValue
    public String configName() {
        return configName;
    }

    /** The config spelling, as in {@link #configName()}. */
    @Override
    public String toString() {
        return configName;
    }

    /**
     * The value named {@code value}.
     *
     * @param key what the value was given for, named in the error
     * @throws IllegalArgumentException naming the key, the bad value and the valid values
     */
    public static OptimizerKind parse(String key, String value) {
        return ConfigChoice.parse(OptimizerKind.class, key, value);
    }
}
