package org.dpsgd.audit;

/**
 * How one step's released gradient along a canary's coordinate, g_t in units of the sensitivity C,
 * adds to the canary's score (higher = more likely IN). Fixed before training; the audit is only
 * valid if it is not chosen after seeing the scores.
 */
public enum CanaryScore {
    /**
     * The per-step log-likelihood ratio at the claimed σ and q: log(1 − q + q·exp((g_t − ½)/σ²)),
     * the ratio of the densities of g_t under "IN" (a mixture: +1 with probability q) and "OUT"
     * (N(0, σ²)). The most powerful test of one step (Neyman–Pearson).
     */
    LIKELIHOOD_RATIO,
    /** Σ_t g_t: the canary's total movement, as a simple baseline. */
    SUM;

    /** One step's contribution. */
    public double term(double g, double q, double sigma) {
        return switch (this) {
            case SUM -> g;
            case LIKELIHOOD_RATIO -> logAddExp(Math.log1p(-q), Math.log(q) + (g - 0.5) / (sigma * sigma));
        };
    }

    private static double logAddExp(double a, double b) {
        double hi = Math.max(a, b);
        return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
    }

    /** The config / CLI name. */
    public String key() {
        return this == SUM ? "sum" : "likelihood_ratio";
    }

    public static CanaryScore parse(String s) {
        return switch (s) {
            case "likelihood_ratio", "lr" -> LIKELIHOOD_RATIO;
            case "sum" -> SUM;
            default -> throw new IllegalArgumentException("unknown canary score '" + s + "'; use likelihood_ratio or sum");
        };
    }
}
