package org.dpsgd.backend;

import java.util.Arrays;

/**
 * How one example's gradient is clipped before it enters the sum: one bound C on the whole
 * gradient ({@link #flat}), or one bound C_l per parameter group (per-layer clipping, NanoBatch's
 * and Opacus's). Groups are given per parameter tensor in {@code Network.parameters()} order.
 *
 * <p>Either way one example's clipped gradient has L2 norm at most {@link #sensitivity()}
 * (C, or sqrt(Σ C_l²) per layer), and that is the C the Gaussian noise is scaled by: with noise
 * N(0, σ²·sensitivity²) on every coordinate, per-layer clipping gives the same guarantee as flat
 * clipping at the same total bound (Opacus's convention).
 */
public record ClipPolicy(double[] thresholds, int[] groupOfParameter) {

    public ClipPolicy {
        if (thresholds == null || thresholds.length == 0)
            throw new IllegalArgumentException("a clip policy needs at least one threshold");
        thresholds = thresholds.clone();
        for (double c : thresholds) {
            if (!(c > 0) || Double.isInfinite(c))
                throw new IllegalArgumentException("clip thresholds must be finite and > 0, got " + c);
        }
        if (groupOfParameter != null) {
            groupOfParameter = groupOfParameter.clone();
            for (int g : groupOfParameter) {
                if (g < 0 || g >= thresholds.length) {
                    throw new IllegalArgumentException(
                            "parameter group " + g + " has no threshold (" + thresholds.length + " given)");
                }
            }
        } else if (thresholds.length != 1) {
            throw new IllegalArgumentException("per-group thresholds need the group of every parameter tensor");
        }
    }

    /** One bound C on each example's whole gradient. */
    public static ClipPolicy flat(double clipNorm) {
        return new ClipPolicy(new double[] {clipNorm}, null);
    }

    /** True for one bound C on the whole gradient (no parameter groups). */
    public boolean isFlat() {
        return groupOfParameter == null;
    }

    /** The flat bound; only for {@link #isFlat()} policies. */
    public double flatNorm() {
        if (!isFlat()) throw new IllegalStateException("per-layer clip policy has no single flat bound");
        return thresholds[0];
    }

    /** The largest L2 norm of one example's clipped gradient: C, or sqrt(Σ C_l²). */
    public double sensitivity() {
        double s = 0;
        for (double c : thresholds) s += c * c;
        return Math.sqrt(s);
    }

    /** The threshold of parameter tensor {@code parameterIndex} (in Network.parameters() order). */
    public double thresholdOf(int parameterIndex) {
        return isFlat() ? thresholds[0] : thresholds[groupOfParameter[parameterIndex]];
    }

    /** The group (index into the thresholds) of parameter tensor {@code parameterIndex}; 0 for a flat policy. */
    public int groupOf(int parameterIndex) {
        return isFlat() ? 0 : groupOfParameter[parameterIndex];
    }

    /** Number of parameter groups, each with its own threshold (1 for a flat policy). */
    public int groups() {
        return thresholds.length;
    }

    @Override
    public double[] thresholds() {
        return thresholds.clone();
    }

    @Override
    public int[] groupOfParameter() {
        return groupOfParameter == null ? null : groupOfParameter.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClipPolicy p
                && Arrays.equals(p.thresholds, thresholds)
                && Arrays.equals(p.groupOfParameter, groupOfParameter);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(thresholds) * 31 + Arrays.hashCode(groupOfParameter);
    }

    @Override
    public String toString() {
        return isFlat()
                ? "flat(C=" + thresholds[0] + ")"
                : "per_layer(" + thresholds.length + " groups, total C=" + sensitivity() + ")";
    }
}
