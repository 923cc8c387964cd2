package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.dpsgd.audit.AuditBound;

/**
 * The optional {@code audit:} section: a one-run privacy audit with secret canaries
 * (docs/audit.md). {@code dpsgd audit} takes its defaults from here; its flags override them.
 *
 * @param canaries m, the number of canaries (default 1000)
 * @param kind whitebox (gradient canaries; default) or blackbox (input canaries)
 * @param confidence of the lower bound (default 0.95)
 * @param score whitebox: observed_likelihood_ratio (default), likelihood_ratio (at the claimed σ) or sum;
 *     blackbox: loss (the only one, the default)
 * @param bound steinke (default: Steinke, Nasr &amp; Jagielski 2023, sound for any (ε, δ) claim) or fdp
 *     (Mahloujifar, Melis &amp; Chaudhuri 2024, Gaussian curve: much tighter, but it tests the μ-GDP claim, which
 *     only full-batch runs are known to satisfy, so a run refuses it unless q = 1; see docs/audit.md)
 */
public record AuditConfig(
        @JsonProperty("canaries") Integer canaries,
        @JsonProperty("kind") AuditKind kind,
        @JsonProperty("confidence") Double confidence,
        @JsonProperty("score") AuditScore score,
        @JsonProperty("bound") AuditBound bound) {

    public AuditConfig {
        if (canaries == null) canaries = 1000;
        if (canaries < 2) throw new IllegalArgumentException("audit.canaries must be >= 2, got " + canaries);
        // An unknown kind or score never gets here: ConfigLoader refuses it while binding, naming the valid ones.
        if (kind == null) kind = AuditKind.WHITEBOX;
        if (confidence == null) confidence = 0.95;
        if (!(confidence > 0 && confidence < 1))
            throw new IllegalArgumentException("audit.confidence must be in (0, 1), e.g. 0.95; got " + confidence);
        if (kind == AuditKind.BLACKBOX) {
            // Input canaries are scored by their loss under the final model; the gradient scores need white-box
            // canaries.
            if (score == null) score = AuditScore.LOSS;
            if (score != AuditScore.LOSS)
                throw new IllegalArgumentException(
                        "audit.score for blackbox canaries must be loss (minus the canary's loss), got '" + score
                                + "'");
        } else {
            if (score == null) score = AuditScore.OBSERVED_LIKELIHOOD_RATIO;
            if (score == AuditScore.LOSS) {
                throw new IllegalArgumentException(
                        "audit.score must be observed_likelihood_ratio, likelihood_ratio or sum, got '" + score + "'");
            }
        }
        // An unknown bound never gets here: ConfigLoader refuses it while binding, naming the valid ones.
        if (bound == null) bound = AuditBound.STEINKE;
    }

    /** The settings with the default bound (steinke). */
    public AuditConfig(Integer canaries, AuditKind kind, Double confidence, AuditScore score) {
        this(canaries, kind, confidence, score, null);
    }

    /** Every default. */
    public static AuditConfig defaults() {
        return new AuditConfig(null, null, null, null, null);
    }
}
