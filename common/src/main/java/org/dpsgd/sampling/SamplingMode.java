package org.dpsgd.sampling;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** How each step's batch is drawn: privacy.sampling. */
public enum SamplingMode implements ConfigChoice {
    /** Each example joins independently with probability q (the default; the scheme ε is computed for). */
    POISSON("poisson"),
    /** Shuffled fixed-size batches, to reproduce papers; the reported ε does NOT hold. */
    SHUFFLE("shuffle");

    private final String configName;

    SamplingMode(String configName) {
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
    public static SamplingMode parse(String key, String value) {
        return ConfigChoice.parse(SamplingMode.class, key, value);
    }
}
