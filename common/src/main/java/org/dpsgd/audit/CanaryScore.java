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
    /**
     * The same likelihood ratio at the noise the canary coordinates actually show
     * ({@link #observedScores}: at the robustly measured σ̂, which the rare IN steps barely move).
     * It is a function
     * of the released parameters only, so it is as valid as any score, and it sees what the claimed
     * σ hides: noise smaller than claimed, or none at all on some coordinates. Keeps every g_t
     * (m × T floats).
     */
    OBSERVED_LIKELIHOOD_RATIO,
    /** Σ_t g_t: the canary's total movement, as a simple baseline. */
    SUM;

    /** The smallest σ̂ the observed score uses (a coordinate without noise would otherwise give 0). */
    static final double MIN_OBSERVED_SIGMA = 1e-3;

    /** One step's contribution. */
    public double term(double g, double q, double sigma) {
        return switch (this) {
            case SUM -> g;
            case LIKELIHOOD_RATIO, OBSERVED_LIKELIHOOD_RATIO ->
                logAddExp(Math.log1p(-q), Math.log(q) + (g - 0.5) / (sigma * sigma));
        };
    }

    /** True when the score needs every step's g_t before it can be computed. */
    public boolean needsHistory() {
        return this == OBSERVED_LIKELIHOOD_RATIO;
    }

    /**
     * The observed-noise scores of all canaries from their g_t (only for {@link #OBSERVED_LIKELIHOOD_RATIO}).
     * The noise level is the pooled σ̂ (the median over canaries of 1.4826 × each one's median
     * absolute deviation from its median), except for a canary whose
     * own σ̂_k differs from it by more than six standard errors of that estimator (1.167/√T
     * relative): a coordinate with visibly less (or more) noise is scored at its own level. Pooling
     * keeps the estimation error of σ̂_k from ranking an honest run's canaries.
     */
    public static double[] observedScores(float[][] g, int steps, double q) {
        int m = g.length;
        double[] centre = new double[m], own = new double[m];
        for (int k = 0; k < m; k++) {
            double[] v = new double[steps];
            for (int t = 0; t < steps; t++) v[t] = g[k][t];
            centre[k] = median(v.clone());
            for (int t = 0; t < steps; t++) v[t] = Math.abs(v[t] - centre[k]);
            own[k] = 1.4826 * median(v);
        }
        double pooled = median(own.clone());
        double band = 6 * 1.167 / Math.sqrt(Math.max(1, steps));
        double[] scores = new double[m];
        for (int k = 0; k < m; k++) {
            boolean distinct = !(pooled > 0) || Math.abs(own[k] / pooled - 1) > band;
            double sigma = Math.max(MIN_OBSERVED_SIGMA, distinct ? own[k] : pooled);
            double s = 0;
            // Not centred on the median: an IN canary's spikes raise its median, and subtracting it would remove
            // signal.
            for (int t = 0; t < steps; t++) s += OBSERVED_LIKELIHOOD_RATIO.term(g[k][t], q, sigma);
            scores[k] = s;
        }
        return scores;
    }

    private static double median(double[] v) {
        if (v.length == 0) return 0;
        java.util.Arrays.sort(v);
        int h = v.length / 2;
        return v.length % 2 == 1 ? v[h] : 0.5 * (v[h - 1] + v[h]);
    }

    private static double logAddExp(double a, double b) {
        double hi = Math.max(a, b);
        return hi + Math.log1p(Math.exp(Math.min(a, b) - hi));
    }

    /** The config / CLI name. */
    public String key() {
        return switch (this) {
            case SUM -> "sum";
            case LIKELIHOOD_RATIO -> "likelihood_ratio";
            case OBSERVED_LIKELIHOOD_RATIO -> "observed_likelihood_ratio";
        };
    }

    /** The score named {@code s} (its {@link #key()}); one clear error for any other name. */
    public static CanaryScore parse(String s) {
        return switch (s) {
            case "likelihood_ratio", "lr" -> LIKELIHOOD_RATIO;
            case "observed_likelihood_ratio", "observed" -> OBSERVED_LIKELIHOOD_RATIO;
            case "sum" -> SUM;
            default ->
                throw new IllegalArgumentException(
                        "unknown canary score '" + s + "'; use likelihood_ratio, observed_likelihood_ratio or sum");
        };
    }
}
