package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** How an audit scores its canaries: audit.score. */
public enum AuditScore implements ConfigChoice {
    /** White-box: the likelihood ratio at the observed noise (the default). */
    OBSERVED_LIKELIHOOD_RATIO("observed_likelihood_ratio"),
    /** White-box: the likelihood ratio at the claimed σ. */
    LIKELIHOOD_RATIO("likelihood_ratio"),
    /** White-box: the canary's total movement. */
    SUM("sum"),
    /** Black-box: minus the canary's loss (the only black-box score). */
    LOSS("loss");

    private final String configName;

    AuditScore(String configName) {
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
    public static AuditScore parse(String key, String value) {
        return ConfigChoice.parse(AuditScore.class, key, value);
    }
}
