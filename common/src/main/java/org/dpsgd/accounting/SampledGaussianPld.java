package org.dpsgd.accounting;

import org.dpsgd.UserError;

/**
 * Discretised privacy loss distributions of one Poisson-sampled Gaussian step, for the two
 * adjacency directions of add/remove-one DP (Zhu, Dong, Wang 2022; dp_accounting's
 * GaussianPrivacyLoss). With μ = N(0, σ²):
 * REMOVE: upper = (1−q)μ(x) + qμ(x+1), lower = μ(x); ADD: upper = μ(x), lower = (1−q)μ(x) + qμ(x−1).
 *
 * <p>Discretised by pessimistic connect-the-dots (Doroshenko et al. 2022, Algorithm 1) on the grid
 * k·d: the masses are chosen so the discrete δ(ε) dominates the true hockey-stick curve at every ε.
 * The noise is truncated where its tails hold e^{−50} of mass; that mass (and all loss above the
 * grid) sits at +∞, so it is counted in full in every δ.
 */
final class SampledGaussianPld {
    /** ln of the noise mass left outside the discretised range (dp_accounting's log_mass_truncation_bound). */
    static final double LOG_MASS_TRUNCATION = -50;
    /** Refuse grids longer than this: the caller should coarsen the discretisation. */
    static final long MAX_GRID_POINTS = PldPmf.MAX_FFT_LENGTH;

    private final double q;
    private final double sigma;
    private final double d;

    SampledGaussianPld(double samplingRate, double noiseMultiplier, double discretisation) {
        this.q = samplingRate;
        this.sigma = noiseMultiplier;
        this.d = discretisation;
    }

    /** True when the ADD and REMOVE distributions coincide (q = 1). */
    boolean symmetric() {
        return q == 1.0;
    }

    PldPmf remove() {
        double xTail = sigma * LogMath.normalQuantile(0.5 * Math.exp(LOG_MASS_TRUNCATION));
        double lowerX = xTail - 1;
        double upperX = -xTail;
        double epsUpper = removeLoss(lowerX);
        double epsLower = removeLoss(upperX);
        return connectTheDots(epsLower, epsUpper, true);
    }

    PldPmf add() {
        double xTail = sigma * LogMath.normalQuantile(0.5 * Math.exp(LOG_MASS_TRUNCATION));
        double lowerX = xTail;
        double upperX = -xTail + 1;
        double epsUpper = addLoss(lowerX);
        double epsLower = addLoss(upperX);
        return connectTheDots(epsLower, epsUpper, false);
    }

    private double removeLoss(double x) {
        return LogMath.sampledLoss((-0.5 - x) / (sigma * sigma), q);
    }

    private double addLoss(double x) {
        return -LogMath.sampledLoss((x - 0.5) / (sigma * sigma), q);
    }

    /** Hockey-stick divergence of the REMOVE pair at ε. */
    double removeDelta(double eps) {
        if (q < 1 && eps <= Math.log1p(-q)) return -Math.expm1(eps);
        double x = -0.5 - sigma * sigma * LogMath.unsampledLoss(eps, q);
        double upper = (1 - q) * LogMath.normalCdf(x / sigma) + q * LogMath.normalCdf((x + 1) / sigma);
        double delta = upper - Math.exp(eps + LogMath.logNormalCdf(x / sigma));
        return clip(delta);
    }

    /** Hockey-stick divergence of the ADD pair at ε. */
    double addDelta(double eps) {
        if (q < 1 && eps >= -Math.log1p(-q)) return 0;
        double x = 0.5 + sigma * sigma * LogMath.unsampledLoss(-eps, q);
        double logLower = q == 1.0
                ? LogMath.logNormalCdf((x - 1) / sigma)
                : LogMath.logAdd(
                        Math.log1p(-q) + LogMath.logNormalCdf(x / sigma),
                        Math.log(q) + LogMath.logNormalCdf((x - 1) / sigma));
        double delta = LogMath.normalCdf(x / sigma) - Math.exp(eps + logLower);
        return clip(delta);
    }

    private static double clip(double delta) {
        return Math.max(0, Math.min(1, delta));
    }

    private PldPmf connectTheDots(double epsLower, double epsUpper, boolean removeDirection) {
        long kLow = (long) Math.floor(epsLower / d);
        long kHigh = (long) Math.ceil(epsUpper / d);
        long points = kHigh - kLow + 1;
        if (points > MAX_GRID_POINTS) {
            throw new UserError(String.format(
                    "the PLD of the sampled Gaussian (q=%s, σ=%s) needs %d grid points at discretisation %s: use the rdp accountant, or a PldAccountant with a coarser value discretisation interval",
                    q, sigma, points, d));
        }
        int n = (int) points;
        double[] deltas = new double[n];
        for (int i = 0; i < n; i++) {
            double eps = (kLow + i) * d;
            deltas[i] = removeDirection ? removeDelta(eps) : addDelta(eps);
        }
        // δ(ε) is non-increasing; enforce it against round-off.
        for (int i = 1; i < n; i++) deltas[i] = Math.min(deltas[i], deltas[i - 1]);
        double[] probs = new double[n];
        if (n == 1) {
            probs[0] = 1 - deltas[0];
        } else {
            double em1 = Math.expm1(d);
            double ed = Math.exp(d);
            probs[0] = 1 - deltas[0] + (deltas[1] - deltas[0]) / em1;
            for (int i = 1; i < n - 1; i++) {
                probs[i] = ((deltas[i + 1] - deltas[i]) - ed * (deltas[i] - deltas[i - 1])) / em1;
            }
            probs[n - 1] = (deltas[n - 1] - deltas[n - 2]) / Math.expm1(-d);
        }
        for (int i = 0; i < n; i++) if (probs[i] < 0) probs[i] = 0;
        return new PldPmf(d, kLow, probs, deltas[n - 1]);
    }
}
