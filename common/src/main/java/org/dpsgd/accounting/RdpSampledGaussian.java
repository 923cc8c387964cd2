package org.dpsgd.accounting;

/**
 * Rényi DP of the Poisson-sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi
 * differential privacy of the sampled Gaussian mechanism"). With μ0 = N(0, σ²), μ1 = N(1, σ²) and
 * μ = (1−q)μ0 + qμ1, the RDP at order α is log(A_α)/(α−1) with A_α = E_{z~μ0}[(μ(z)/μ0(z))^α].
 *
 * <p>Integer α: the finite binomial expansion (Section 3.2). Fractional α: the two convergent
 * series of Section 3.3, keeping the SIGN of the generalised binomial coefficients C(α, i), which
 * alternate once i > α. (dp_accounting's {@code _compute_log_a_frac} adds |C(α, i)| and so
 * overstates A_α; see docs/accounting.md.) Everything is summed in log space.
 */
public final class RdpSampledGaussian {
    /** Series terms beyond this many mean the fractional series did not converge: the order is dropped (RDP = +∞). */
    static final int MAX_FRACTIONAL_TERMS = 200_000;
    /** Stop the fractional series once its terms are below e^−30 ≈ 1e−13 of the sum. */
    static final double CONVERGED_LOG_RATIO = 30;

    private RdpSampledGaussian() {}

    /** RDP ε(α) of one step of the Poisson-sampled Gaussian with rate q and noise multiplier σ. */
    public static double rdp(double q, double sigma, double order) {
        if (!(q > 0 && q <= 1)) throw new IllegalArgumentException("sampling rate must be in (0, 1], got " + q);
        if (!(sigma > 0)) throw new IllegalArgumentException("noise multiplier must be > 0, got " + sigma);
        if (!(order > 1)) throw new IllegalArgumentException("RDP order must be > 1, got " + order);
        if (Double.isInfinite(order)) return Double.POSITIVE_INFINITY;
        if (q == 1.0) return order / (2 * sigma * sigma);
        double logA = isInteger(order) ? logAInteger(q, sigma, (int) order) : logAFractional(q, sigma, order);
        return logA / (order - 1);
    }

    static boolean isInteger(double order) {
        return order == Math.rint(order) && order < Integer.MAX_VALUE;
    }

    /** log A_α for integer α: Σ_i C(α,i) q^i (1−q)^{α−i} exp((i²−i)/(2σ²)). All terms are positive. */
    static double logAInteger(double q, double sigma, int alpha) {
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double twoSigma2 = 2 * sigma * sigma;
        double logA = Double.NEGATIVE_INFINITY;
        double logBinom = 0; // log C(α, 0)
        for (int i = 0; i <= alpha; i++) {
            double term = logBinom + i * logQ + (alpha - i) * log1mQ + ((double) i * i - i) / twoSigma2;
            logA = LogMath.logAdd(logA, term);
            logBinom += Math.log((double) (alpha - i)) - Math.log(i + 1.0);
        }
        return logA;
    }

    /**
     * log A_α for fractional α (Mironov et al. 2019, Section 3.3). A_α = A0 + A1 with
     * A0 = Σ_i C(α,i) q^i (1−q)^{α−i} e^{(i²−i)/(2σ²)} · ½erfc((i−z0)/(√2σ)) and
     * A1 = Σ_i C(α,i) q^{α−i} (1−q)^i e^{((α−i)²−(α−i))/(2σ²)} · ½erfc((z0−(α−i))/(√2σ)),
     * z0 = σ² log(1/q − 1) + ½. For i > α, C(α, i) has sign (−1)^(i − ⌈α⌉), so the sign is tracked.
     * The result is an upper bound within a relative 1e−13 of A_α (the alternating tails are
     * bounded by their last term). Returns +∞ (the order is then unusable, which only loosens ε)
     * if the series has not converged after {@link #MAX_FRACTIONAL_TERMS} terms.
     */
    static double logAFractional(double q, double sigma, double alpha) {
        double logQ = Math.log(q);
        double log1mQ = Math.log1p(-q);
        double sigma2 = sigma * sigma;
        double z0 = sigma2 * (Math.log(1 / q - 1)) + 0.5;
        double sqrt2Sigma = Math.sqrt(2) * sigma;
        double logHalf = Math.log(0.5);
        SignedLogSum a0 = new SignedLogSum();
        SignedLogSum a1 = new SignedLogSum();
        double logAbsBinom = 0; // log |C(α, 0)|
        int binomSign = 1;
        double lastS0 = Double.NEGATIVE_INFINITY;
        double lastS1 = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < MAX_FRACTIONAL_TERMS; i++) {
            double j = alpha - i;
            double logT0 = logAbsBinom + i * logQ + j * log1mQ;
            double logT1 = logAbsBinom + j * logQ + i * log1mQ;
            double logE0 = logHalf + LogMath.logErfc((i - z0) / sqrt2Sigma);
            double logE1 = logHalf + LogMath.logErfc((z0 - j) / sqrt2Sigma);
            double logS0 = logT0 + ((double) i * i - i) / (2 * sigma2) + logE0;
            double logS1 = logT1 + (j * j - j) / (2 * sigma2) + logE1;
            a0.add(binomSign, logS0);
            a1.add(binomSign, logS1);
            // Past i > α both series alternate. Once their terms shrink, the remainder of each is at
            // most its next term (Leibniz), so partial sum + |last terms| is a rigorous upper bound.
            if (i > alpha + 1 && logS0 < lastS0 && logS1 < lastS1) {
                double total = SignedLogSum.sum(a0, a1);
                if (Math.max(logS0, logS1) < total - CONVERGED_LOG_RATIO) {
                    return LogMath.logAdd(total, LogMath.logAdd(logS0, logS1));
                }
            }
            lastS0 = logS0;
            lastS1 = logS1;
            // C(α, i+1) = C(α, i)·(α − i)/(i + 1): the sign flips whenever α − i < 0.
            double factor = alpha - i;
            if (factor < 0) binomSign = -binomSign;
            logAbsBinom += Math.log(Math.abs(factor)) - Math.log(i + 1.0);
        }
        return Double.POSITIVE_INFINITY;
    }

    /** A running sum of signed terms stored as (sign, log|sum|). */
    static final class SignedLogSum {
        private int sign = 0;
        private double logAbs = Double.NEGATIVE_INFINITY;

        void add(int termSign, double logTerm) {
            if (logTerm == Double.NEGATIVE_INFINITY) return;
            if (sign == 0) {
                sign = termSign;
                logAbs = logTerm;
            } else if (sign == termSign) {
                logAbs = LogMath.logAdd(logAbs, logTerm);
            } else if (logAbs > logTerm) {
                logAbs = logAbs + Math.log1p(-Math.exp(logTerm - logAbs));
            } else if (logAbs < logTerm) {
                logAbs = logTerm + Math.log1p(-Math.exp(logAbs - logTerm));
                sign = termSign;
            } else {
                sign = 0;
                logAbs = Double.NEGATIVE_INFINITY;
            }
        }

        int sign() {
            return sign;
        }

        double logAbs() {
            return logAbs;
        }

        /** log(a + b), or NaN when a + b <= 0. */
        static double sum(SignedLogSum a, SignedLogSum b) {
            SignedLogSum s = new SignedLogSum();
            s.add(a.sign, a.logAbs);
            s.add(b.sign, b.logAbs);
            return s.sign > 0 ? s.logAbs : Double.NaN;
        }
    }
}
