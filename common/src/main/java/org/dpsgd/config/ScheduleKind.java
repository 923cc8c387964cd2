package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** How the learning rate moves after warm-up: optimizer.schedule. */
public enum ScheduleKind implements ConfigChoice {
    /** The base rate throughout (the default). */
    CONSTANT("constant"),
    /** Cosine from the base rate down to min_lr over the steps after warm-up. */
    COSINE("cosine");

    private final String configName;

    ScheduleKind(String configName) {
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
    public static ScheduleKind parse(String key, String value) {
        return ConfigChoice.parse(ScheduleKind.class, key, value);
    }
}
