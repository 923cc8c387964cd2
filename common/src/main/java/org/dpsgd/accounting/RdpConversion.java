package org.dpsgd.accounting;

import java.util.List;
import org.dpsgd.UserError;

/**
 * RDP → (ε, δ). Per order α: ε = rdp + log1p(−1/α) − (log δ + log α)/(α − 1) (Balle et al. 2020,
 * Canonne-Kamath-Steinke 2020, Prop. 12; the conversion dp_accounting uses), minimised over orders.
 * Orders at or below 1.01 are skipped (the bound is unstable there), as in dp_accounting. Also as
 * in dp_accounting, δ ≥ sqrt(1 − e^{−rdp}) certifies ε = 0 (the KL/total-variation bound).
 *
 * <p>Every RDP value must be a positive number (or +∞, an unusable order). A value at or below
 * zero, or NaN, can only come from a numerical failure (e.g. cancellation in the series for a
 * tiny q/σ²): the Gaussian mechanisms we account for have strictly positive RDP at every order,
 * so it is refused rather than converted to ε = 0. A ledger with nothing composed is not converted
 * here: {@link RdpAccountant} answers ε = 0 for it without a curve.
 */
public final class RdpConversion {
    private RdpConversion() {}

    /** ε and the order that achieved it (NaN order when no order gives a finite ε). */
    public record EpsilonAndOrder(double epsilon, double order) {}

    /**
     * The smallest ε over {@code orders} for the composed RDP values {@code rdp} at δ in (0, 1); refuses a non-positive
     * or NaN RDP value rather than certify ε = 0.
     */
    public static EpsilonAndOrder epsilon(List<Double> orders, double[] rdp, double delta) {
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
        if (orders.size() != rdp.length) throw new IllegalArgumentException("orders and RDP values differ in length");
        double best = Double.POSITIVE_INFINITY;
        double bestOrder = Double.NaN;
        for (int k = 0; k < rdp.length; k++) {
            double a = orders.get(k);
            double r = rdp[k];
            double eps;
            if (Double.isNaN(r) || r <= 0) {
                throw new UserError(
                        "RDP at order " + a + " is " + r + ", not a positive number: a numerical failure"
                                + " in the accountant (no ε can be certified from it); try the pld accountant or a smaller noise multiplier");
            } else if (delta * delta + Math.expm1(-r) > 0) {
                eps = 0;
            } else if (a > 1.01) {
                eps = r + Math.log1p(-1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1);
            } else {
                eps = Double.POSITIVE_INFINITY;
            }
            if (eps < best) {
                best = eps;
                bestOrder = a;
            }
        }
        return new EpsilonAndOrder(Math.max(0, best), bestOrder);
    }
}
