package org.dpsgd.accounting;

import org.apache.commons.numbers.gamma.Erfc;

/**
 * Test oracle: exact (ε, δ) curves computed independently of the accountants.
 * The Gaussian mechanism composed T times is one Gaussian with μ = √T/σ, whose exact
 * δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2) (Balle & Wang 2018). For one Poisson-sampled step the
 * hockey-stick divergence is integrated numerically from the two densities.
 */
final class GaussianOracle {
    private GaussianOracle() {}

    static double phi(double x) {
        return 0.5 * Erfc.value(-x / Math.sqrt(2));
    }

    static double gaussianDelta(double mu, double eps) {
        return phi(-eps / mu + mu / 2) - Math.exp(eps) * phi(-eps / mu - mu / 2);
    }

    /** Smallest ε with δ(ε) <= delta, by bisection on a decreasing curve. */
    static double epsilonFor(java.util.function.DoubleUnaryOperator deltaOfEps, double delta) {
        double lo = 0;
        double hi = 1;
        if (deltaOfEps.applyAsDouble(0) <= delta) return 0;
        while (deltaOfEps.applyAsDouble(hi) > delta) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            if (deltaOfEps.applyAsDouble(mid) > delta) lo = mid;
            else hi = mid;
        }
        return hi;
    }

    /**
     * δ(ε) of one Poisson-sampled Gaussian step (add/remove-one: the max over both directions),
     * as ∫ max(0, P(x) − e^ε Q(x)) dx by the trapezoid rule on a fine grid. The densities are
     * tabulated once; {@link #delta} then costs one pass per ε.
     */
    static final class SampledStep {
        private final double q;
        private final double h;
        private final double[] m0;
        private final double[] mLeft;
        private final double[] mRight;

        SampledStep(double q, double sigma) {
            this.q = q;
            double lo = -14 * sigma - 1;
            double hi = 14 * sigma + 1;
            int n = 100_000;
            h = (hi - lo) / n;
            m0 = new double[n + 1];
            mLeft = new double[n + 1];
            mRight = new double[n + 1];
            for (int i = 0; i <= n; i++) {
                double x = lo + i * h;
                double w = (i == 0 || i == n) ? 0.5 : 1;
                m0[i] = w * density(x, sigma);
                mLeft[i] = w * density(x + 1, sigma);
                mRight[i] = w * density(x - 1, sigma);
            }
        }

        double delta(double eps) {
            double e = Math.exp(eps);
            double remove = 0;
            double add = 0;
            for (int i = 0; i < m0.length; i++) {
                // REMOVE: P = (1−q)μ(x) + qμ(x+1), Q = μ(x).  ADD: P = μ(x), Q = (1−q)μ(x) + qμ(x−1).
                remove += Math.max(0, (1 - q) * m0[i] + q * mLeft[i] - e * m0[i]);
                add += Math.max(0, m0[i] - e * ((1 - q) * m0[i] + q * mRight[i]));
            }
            return Math.max(remove, add) * h;
        }
    }

    private static double density(double x, double sigma) {
        return Math.exp(-0.5 * (x / sigma) * (x / sigma)) / (sigma * Math.sqrt(2 * Math.PI));
    }
}
