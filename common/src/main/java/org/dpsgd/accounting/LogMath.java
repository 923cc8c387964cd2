package org.dpsgd.accounting;

import org.apache.commons.numbers.gamma.Erfc;
import org.apache.commons.numbers.gamma.Erfcx;
import org.apache.commons.numbers.gamma.InverseErfc;

/** Log-space arithmetic and Gaussian tail functions that stay accurate far into the tails. */
final class LogMath {
    private static final double SQRT2 = Math.sqrt(2.0);
    private static final double LOG_HALF = Math.log(0.5);

    private LogMath() {}

    /** log(e^a + e^b). */
    static double logAdd(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) return b;
        if (b == Double.NEGATIVE_INFINITY) return a;
        double hi = Math.max(a, b);
        double lo = Math.min(a, b);
        return hi + Math.log1p(Math.exp(lo - hi));
    }

    /** log(erfc(x)); uses the scaled erfcx for x > 0 so it never underflows. */
    static double logErfc(double x) {
        if (x > 0) return Math.log(Erfcx.value(x)) - x * x;
        return Math.log(Erfc.value(x));
    }

    /** log Φ(x) for the standard normal CDF. */
    static double logNormalCdf(double x) {
        return LOG_HALF + logErfc(-x / SQRT2);
    }

    /** Φ(x) for the standard normal CDF. */
    static double normalCdf(double x) {
        return 0.5 * Erfc.value(-x / SQRT2);
    }

    /** Φ⁻¹(p) for p in (0, 1), accurate for tiny p. */
    static double normalQuantile(double p) {
        return -SQRT2 * InverseErfc.value(2 * p);
    }

    /**
     * log(1 + (e^t − 1)/q) for q in (0, 1] and t > log(1 − q): the un-subsampled privacy loss
     * behind a subsampled loss t. Stable for large t (no overflow of e^t).
     */
    static double unsampledLoss(double t, double q) {
        if (q == 1.0) return t;
        if (t > 30) return t + Math.log1p(-(1 - q) * Math.exp(-t)) - Math.log(q);
        return Math.log1p(Math.expm1(t) / q);
    }

    /** log(1 − q + q·e^t) for q in (0, 1]: the subsampled privacy loss of an un-subsampled loss t. */
    static double sampledLoss(double t, double q) {
        if (q == 1.0) return t;
        double a = Math.log(q) + t;
        return logAdd(a, Math.log1p(-q));
    }
}
