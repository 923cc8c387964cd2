package org.dpsgd.audit;

import org.apache.commons.numbers.gamma.LogGamma;

/**
 * The probabilities of Binomial(r, p) that the one-run bound needs, from log-space pmf terms (so
 * they stay exact-to-rounding for r in the tens of thousands, where p^r underflows).
 */
final class BinomialTail {
    private final double[] pmf; // pmf[k] = P[Binomial(r, p) = k], k = 0..r

    BinomialTail(int r, double p) {
        if (r < 0) throw new IllegalArgumentException("r must be >= 0, got " + r);
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("p must be in [0, 1], got " + p);
        pmf = new double[r + 1];
        if (p == 0 || p == 1) {
            pmf[p == 0 ? 0 : r] = 1;
            return;
        }
        double logP = Math.log(p), log1mP = Math.log1p(-p), logRFact = LogGamma.value(r + 1.0);
        for (int k = 0; k <= r; k++) {
            pmf[k] = Math.exp(
                    logRFact - LogGamma.value(k + 1.0) - LogGamma.value(r - k + 1.0) + k * logP + (r - k) * log1mP);
        }
    }

    /** P[Binomial = k] (0 outside 0..r). */
    double pmf(int k) {
        return k < 0 || k >= pmf.length ? 0 : pmf[k];
    }

    /** P[Binomial ≥ v], summed from the far tail inwards (small terms first). */
    double atLeast(int v) {
        if (v <= 0) return 1;
        double s = 0;
        for (int k = pmf.length - 1; k >= v; k--) s += pmf[k];
        return Math.min(s, 1);
    }
}
