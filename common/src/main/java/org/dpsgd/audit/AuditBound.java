package org.dpsgd.audit;

import java.util.Locale;

/**
 * Which one-run bound turns (m, r, v) into ε_lower. {@link #STEINKE} (the default) holds for any
 * (ε, δ)-DP mechanism; {@link #FDP} tests the stronger, Gaussian-shaped claim and is much tighter
 * for Gaussian mechanisms (sound for full-batch Gaussian runs; see {@link FdpOneRunBound}).
 */
public enum AuditBound {
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

    /** Parses {@code steinke} or {@code fdp} (null = the default, steinke). */
    public static AuditBound parse(String key) {
        if (key == null) return STEINKE;
        for (AuditBound b : values()) if (b.key().equals(key)) return b;
        throw new IllegalArgumentException("audit bound must be steinke or fdp, got '" + key + "'");
    }
}
