package org.dpsgd.noise;

import com.fasterxml.jackson.annotation.JsonValue;
import org.dpsgd.ConfigChoice;

/** Where the Gaussian noise (and the sampling randomness) comes from: privacy.noise. */
public enum NoiseMode implements ConfigChoice {
    /** A CSPRNG keyed from the JDK's DRBG, hardened against floating-point attacks (the default). */
    SECURE("secure"),
    /** Seeded and reproducible: the noise can be subtracted, so there is NO privacy; experiments only. */
    FAST_INSECURE("fast-insecure");

    private final String configName;

    NoiseMode(String configName) {
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
    public static NoiseMode parse(String key, String value) {
        return ConfigChoice.parse(NoiseMode.class, key, value);
    }
}
