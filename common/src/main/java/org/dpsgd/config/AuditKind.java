package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** Which canaries an audit plants: audit.kind. */
public enum AuditKind implements ConfigChoice {
    /** Gradient canaries, observed in every released step (the default). */
    WHITEBOX("whitebox"),
    /** Input canaries, scored by their loss under the final model. */
    BLACKBOX("blackbox");

    private final String configName;

    AuditKind(String configName) {
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
    public static AuditKind parse(String key, String value) {
        return ConfigChoice.parse(AuditKind.class, key, value);
    }
}
