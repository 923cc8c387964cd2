package org.dpsgd.accounting;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** Which accountant composes the privacy loss: privacy.accountant. */
public enum AccountantKind implements ConfigChoice {
    /** Rényi DP over a grid of orders (the default). */
    RDP("rdp"),
    /** Privacy loss distributions (tighter ε, slower). */
    PLD("pld");

    private final String configName;

    AccountantKind(String configName) {
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
    public static AccountantKind parse(String key, String value) {
        return ConfigChoice.parse(AccountantKind.class, key, value);
    }
}
