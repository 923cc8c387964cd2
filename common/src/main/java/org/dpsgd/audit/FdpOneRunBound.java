package org.dpsgd.audit;

import org.apache.commons.numbers.gamma.Erfc;
import org.apache.commons.numbers.gamma.Erfcx;
import org.apache.commons.numbers.gamma.InverseErfc;

/**
 * The one-run f-DP audit of Mahloujifar, Melis &amp; Chaudhuri, <i>Auditing f-Differential Privacy
 * in One Run</i> (2024, arXiv 2410.22235; their Algorithm "audit_rh_with_cap"), for the Gaussian
 * trade-off curve: usable on its own like {@link PrivacyAudit#epsilonLowerBound}.
 *
 * <p>The game is Steinke et al.'s (m canaries, coins ½, r guesses of which v are right), but the
 * null hypothesis is "the mechanism is μ-GDP", i.e. its trade-off curve is at least
 * G_μ(α) = Φ(Φ⁻¹(1 − α) − μ) (Dong, Roth &amp; Su 2022), not only a single (ε, δ) point. The test
 * walks the tail of the right-guess count, with g(x) = Φ(Φ⁻¹(x) − μ) the inverse of the curve's
 * blow-up and τ the significance:
 *
 * <pre>
 *   a = τ·v/m,  b = τ·(r − v)/m
 *   for i = v − 1 down to 0:  b' = max(b, g(a));  stop if b' = b;
 *                             a = min(a + i/(r − i)·(b' − b), 1);  b = b'
 *   reject μ-GDP at level τ  ⇔  a + b &gt; r/m
 * </pre>
 *
 * The largest rejected μ is μ_lower; an (ε, δ) claim is turned into the μ whose Gaussian curve
 * has exactly that δ at ε (Balle &amp; Wang 2018, Dong et al. Corollary 2.13):
 * δ(ε; μ) = Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2), and ε_lower = ε(μ_lower; δ).
 *
 * <p><b>When it is sound.</b> Rejecting μ-GDP disproves the (ε, δ) claim only for mechanisms
 * whose privacy is Gaussian-shaped: a full-batch (q = 1) Gaussian mechanism composed T times is
 * exactly (√T/σ)-GDP, and every (ε, δ) its RDP accountant reports is at or above the curve's, so
 * the test is sound there. A Poisson-subsampled mechanism is not exactly GDP; an (ε, δ)-DP
 * mechanism can fail a μ(ε, δ)-GDP test. The {@link AuditBound#STEINKE} bound needs no such
 * assumption and stays the default.
 *
 * <p><b>When it is tighter.</b> The Steinke bound certifies ε at a tail probability of about r/m
 * and pays 2mδ; this one uses the whole Gaussian curve, so for Gaussian mechanisms it reaches the
 * claim with fewer canaries (docs/audit.md has the numbers).
 */
public final class FdpOneRunBound {
    private static final double SQRT2 = Math.sqrt(2.0);
    private static final double MU_MAX = 1e3;

    private FdpOneRunBound() {}

    /** δ(ε; μ) = Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2): the δ of μ-GDP at ε (computed in log space for the second term). */
    public static double gaussianDelta(double epsilon, double mu) {
        if (!(epsilon >= 0) || Double.isInfinite(epsilon))
            throw new IllegalArgumentException("ε must be finite and >= 0, got " + epsilon);
        if (!(mu > 0) || Double.isInfinite(mu))
            throw new IllegalArgumentException("μ must be finite and > 0, got " + mu);
        double a = normalCdf(-epsilon / mu + mu / 2);
        double b = Math.exp(epsilon + logNormalCdf(-epsilon / mu - mu / 2));
        return Math.max(0, a - b);
    }

    /**
     * The μ whose Gaussian trade-off curve has exactly δ at ε: the μ-GDP claim an (ε, δ) claim of a
     * Gaussian mechanism corresponds to (δ(ε; μ) increases with μ; bisection to 1e-12, rounded up so
     * the claim is never made stronger than stated).
     */
    public static double gaussianMu(double epsilon, double delta) {
        checkDelta(delta);
        if (delta == 0) throw new IllegalArgumentException("μ-GDP with δ = 0 needs μ = 0; give δ > 0");
        double lo = 0, hi = 1;
        while (gaussianDelta(epsilon, hi) < delta) {
            lo = hi;
            hi *= 2;
            if (hi > MU_MAX)
                throw new IllegalArgumentException("ε = " + epsilon + " at δ = " + delta + " is beyond μ = " + MU_MAX);
        }
        while (hi - lo > 1e-12 * Math.max(1, hi)) {
            double mid = 0.5 * (lo + hi);
            if (gaussianDelta(epsilon, mid) < delta) lo = mid;
            else hi = mid;
        }
        return hi;
    }

    /** The ε of μ-GDP at δ: the root of δ(ε; μ) = δ (0 when δ ≥ 2Φ(μ/2) − 1); rounded down, by bisection to 1e-10. */
    public static double gaussianEpsilon(double mu, double delta) {
        checkDelta(delta);
        if (mu == 0) return 0;
        if (gaussianDelta(0, mu) <= delta) return 0;
        double lo = 0, hi = 1;
        while (gaussianDelta(hi, mu) > delta) {
            lo = hi;
            hi *= 2;
        }
        while (hi - lo > 1e-10) {
            double mid = 0.5 * (lo + hi);
            if (gaussianDelta(mid, mu) > delta) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    /**
     * Whether r guesses with v right reject "μ-GDP" at {@code significance}: the recursion above. The
     * chance that a μ-GDP mechanism gives a rejection is at most {@code significance} (for r and the
     * guess rule fixed before the scores are seen).
     */
    public static boolean rejects(int m, int r, int v, double mu, double significance) {
        checkCounts(m, r, v);
        if (!(mu >= 0) || Double.isInfinite(mu))
            throw new IllegalArgumentException("μ must be finite and >= 0, got " + mu);
        if (!(significance > 0 && significance < 1))
            throw new IllegalArgumentException("significance must be in (0, 1), got " + significance);
        double a = significance * v / m;
        double b = significance * (r - v) / m;
        for (int i = v - 1; i >= 0; i--) {
            double next = Math.max(b, blowUpInverse(a, mu));
            if (next == b) break; // b is stuck, so a is too
            a = Math.min(a + (double) i / (r - i) * (next - b), 1.0);
            b = next;
        }
        return a + b > (double) r / m;
    }

    /**
     * μ_lower: the largest μ that r guesses with v right reject at 1 − {@code confidence} (by bisection
     * to 1e-10, rounded down); 0 when even μ = 0 (no privacy loss) is not rejected.
     */
    public static double muLowerBound(int m, int r, int v, double confidence) {
        checkConfidence(confidence);
        double significance = 1 - confidence;
        if (!rejects(m, r, v, 0, significance)) return 0;
        double lo = 0, hi = 1;
        while (rejects(m, r, v, hi, significance)) {
            lo = hi;
            hi *= 2;
            if (hi > MU_MAX) return lo; // unreachable: for large μ, g(a) → 0 and nothing moves
        }
        while (hi - lo > 1e-10) {
            double mid = 0.5 * (lo + hi);
            if (rejects(m, r, v, mid, significance)) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    /**
     * ε_lower = ε(μ_lower; δ): every Gaussian-shaped (ε, δ) claim with ε below it is rejected at
     * {@code confidence}. Same arguments as {@link PrivacyAudit#epsilonLowerBound}.
     */
    public static double epsilonLowerBound(int m, int r, int v, double delta, double confidence) {
        checkDelta(delta);
        if (delta == 0) throw new IllegalArgumentException("the f-DP bound converts (ε, δ) with δ > 0; got δ = 0");
        return gaussianEpsilon(muLowerBound(m, r, v, confidence), delta);
    }

    /** g(x) = Φ(Φ⁻¹(x) − μ), the inverse of the μ-GDP blow-up function; g(0) = 0, g(1) = 1. */
    static double blowUpInverse(double x, double mu) {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        return normalCdf(normalQuantile(x) - mu);
    }

    private static double normalCdf(double x) {
        return 0.5 * Erfc.value(-x / SQRT2);
    }

    /** log Φ(x); the scaled erfcx keeps the far lower tail from underflowing. */
    private static double logNormalCdf(double x) {
        double z = -x / SQRT2;
        if (z > 0) return Math.log(0.5 * Erfcx.value(z)) - z * z;
        return Math.log(0.5 * Erfc.value(z));
    }

    private static double normalQuantile(double p) {
        return -SQRT2 * InverseErfc.value(2 * p);
    }

    private static void checkCounts(int m, int r, int v) {
        if (!(0 <= v && v <= r && r <= m && m >= 1)) {
            throw new IllegalArgumentException(
                    "need 0 <= v <= r <= m (right guesses, guesses, canaries), got v=" + v + ", r=" + r + ", m=" + m);
        }
    }

    private static void checkDelta(double delta) {
        if (!(delta >= 0 && delta < 1)) throw new IllegalArgumentException("δ must be in [0, 1), got " + delta);
    }

    private static void checkConfidence(double confidence) {
        if (!(confidence > 0 && confidence < 1))
            throw new IllegalArgumentException("confidence must be in (0, 1), e.g. 0.95; got " + confidence);
    }
}
