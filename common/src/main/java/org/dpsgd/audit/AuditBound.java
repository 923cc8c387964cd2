package org.dpsgd.audit;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import org.dpsgd.ConfigChoice;

/**
 * Which one-run bound turns (m, r, v) into ε_lower. {@link #STEINKE} (the default) holds for any
 * (ε, δ)-DP mechanism; {@link #FDP} tests the stronger, Gaussian-shaped claim and is much tighter
 * for Gaussian mechanisms (sound for full-batch Gaussian runs; see {@link FdpOneRunBound}).
 */
public enum AuditBound implements ConfigChoice {
    /** Steinke, Nasr &amp; Jagielski 2023: {@link PrivacyAudit#epsilonLowerBound}. */
    STEINKE,
    /** Mahloujifar, Melis &amp; Chaudhuri 2024, Gaussian curve: {@link FdpOneRunBound#epsilonLowerBound}. */
    FDP;

    /** ε_lower from r guesses with v right among m canaries, at δ and {@code confidence}. */
    public double epsilonLowerBound(int m, int r, int v, double delta, double confidence) {
        return this == STEINKE
                ? PrivacyAudit.epsilonLowerBound(m, r, v, delta, confidence)
                : FdpOneRunBound.epsilonLowerBound(m, r, v, delta, confidence);
    }

    /** The name in configs, flags and JSON: {@code steinke} or {@code fdp}. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    @JsonValue
    public String configName() {
        return key();
    }

    /** The config spelling, as in {@link #configName()}. */
    @Override
    public String toString() {
        return key();
    }

    /**
     * Parses {@code steinke} or {@code fdp} (null = the default, steinke).
     *
     * @param option what the value was given for, named in the error ("audit.bound", "--bound")
     * @throws IllegalArgumentException naming the option, the bad value and the valid values
     */
    public static AuditBound parse(String option, String key) {
        if (key == null) return STEINKE;
        return ConfigChoice.parse(AuditBound.class, option, key);
    }
}
