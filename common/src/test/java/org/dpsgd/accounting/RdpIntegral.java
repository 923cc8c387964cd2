package org.dpsgd.accounting;

/**
 * Test oracle: log A_α of the sampled Gaussian by direct numerical integration of the definition
 * A_α = ∫ φ_σ(z)·((1−q) + q·e^{(2z−1)/(2σ²)})^α dz, independent of any series expansion. The
 * integrand is smooth and decays like a Gaussian, so the trapezoid rule on a fine uniform grid
 * covering both of its bumps (near 0 and near α) converges geometrically; it is evaluated in log
 * space, scaled by its maximum.
 */
final class RdpIntegral {
    private RdpIntegral() {}

    static double logA(double q, double sigma, double alpha) {
        double lo = -40 * sigma - 1;
        double hi = alpha + 40 * sigma + 1;
        double h = sigma / 400; // 400 points per noise standard deviation
        int n = (int) Math.ceil((hi - lo) / h);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i <= n; i++) max = Math.max(max, logIntegrand(lo + i * h, q, sigma, alpha));
        double sum = 0;
        double c = 0; // Kahan compensation
        for (int i = 0; i <= n; i++) {
            double w = (i == 0 || i == n) ? 0.5 : 1.0;
            double y = w * Math.exp(logIntegrand(lo + i * h, q, sigma, alpha) - max) - c;
            double t = sum + y;
            c = (t - sum) - y;
            sum = t;
        }
        return max + Math.log(sum * h);
    }

    private static double logIntegrand(double z, double q, double sigma, double alpha) {
        double logPhi = -0.5 * (z / sigma) * (z / sigma) - Math.log(sigma * Math.sqrt(2 * Math.PI));
        double t = (2 * z - 1) / (2 * sigma * sigma);
        double logMix = LogMath.logAdd(Math.log1p(-q), Math.log(q) + t);
        return logPhi + alpha * logMix;
    }
}
