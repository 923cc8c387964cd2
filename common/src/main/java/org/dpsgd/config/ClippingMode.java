package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** How per-sample gradients are bounded: privacy.clipping. */
public enum ClippingMode implements ConfigChoice {
    /** One bound C on each example's whole gradient (the default). */
    FLAT("flat"),
    /** Each parameter group to its own C_l, with sqrt(Σ C_l²) = clip_norm. */
    PER_LAYER("per_layer");

    private final String configName;

    ClippingMode(String configName) {
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
     * The mode named {@code value}.
     *
     * @param key what the value was given for, named in the error
     * @throws IllegalArgumentException naming the key, the bad value and the valid values
     */
    public static ClippingMode parse(String key, String value) {
        return ConfigChoice.parse(ClippingMode.class, key, value);
    }
}
