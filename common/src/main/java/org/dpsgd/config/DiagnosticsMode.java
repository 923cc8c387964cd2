package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** What may leave the process besides DP releases: privacy.diagnostics. */
public enum DiagnosticsMode implements ConfigChoice {
    /** Only what the DP mechanism releases (the default). */
    NONE("none"),
    /** Also training-batch statistics, each marked as not covered by ε. */
    RAW("raw");

    private final String configName;

    DiagnosticsMode(String configName) {
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
    public static DiagnosticsMode parse(String key, String value) {
        return ConfigChoice.parse(DiagnosticsMode.class, key, value);
    }
}
