package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code privacy.per_layer}: how per-layer clipping splits the total bound C = {@code privacy.clip_norm}
 * into one bound C_l per parameter group, always with sqrt(Σ C_l²) = C, the L2 sensitivity the
 * noise is scaled by. Groups are the network's trainable parameter tensors in
 * {@code Network.parameters()} order, one per tensor ({@code groups: tensor}) or one per layer
 * ({@code groups: layer}: all tensors whose names share the part before the last '.', e.g.
 * conv1.weight and conv1.bias); frozen tensors belong to no group. The number of groups is only
 * known with the network: {@code org.dpsgd.backend.ClipPolicies#from} checks explicit lists.
 *
 * @param split equal (C_l = C/sqrt(L), the default), sqrt_params (C_l ∝ sqrt(parameter count of group l))
 *     or explicit (the {@code thresholds} as given)
 * @param thresholds the C_l in group order; only with split: explicit
 * @param groups tensor (default) or layer
 */
public record PerLayerClipping(
        @JsonProperty("split") String split,
        @JsonProperty("thresholds") List<Double> thresholds,
        @JsonProperty("groups") String groups) {

    public static final PerLayerClipping DEFAULT = new PerLayerClipping(null, null, null);

    /** Relative agreement required between clip_norm and sqrt(Σ C_l²) of an explicit list. */
    static final double TOTAL_TOLERANCE = 1e-9;

    @JsonCreator
    public PerLayerClipping {
        if (split == null) split = "equal";
        if (groups == null) groups = "tensor";
        if (!List.of("equal", "sqrt_params", "explicit").contains(split)) {
            throw new IllegalArgumentException(
                    "privacy.per_layer.split must be equal, sqrt_params or explicit, got '" + split + "'");
        }
        if (!groups.equals("tensor") && !groups.equals("layer")) {
            throw new IllegalArgumentException(
                    "privacy.per_layer.groups must be tensor or layer, got '" + groups + "'");
        }
        if (split.equals("explicit")) {
            if (thresholds == null || thresholds.isEmpty()) {
                throw new IllegalArgumentException(
                        "privacy.per_layer.split: explicit needs thresholds: [C_1, C_2, ...], one per parameter group");
            }
            for (int i = 0; i < thresholds.size(); i++) {
                Double c = thresholds.get(i);
                if (c == null || !(c > 0) || c.isInfinite()) {
                    throw new IllegalArgumentException(
                            "privacy.per_layer.thresholds[" + i + "] must be a finite number > 0, got " + c);
                }
            }
            thresholds = List.copyOf(thresholds);
        } else if (thresholds != null) {
            throw new IllegalArgumentException(
                    "privacy.per_layer.thresholds is only used with split: explicit (split is " + split + ")");
        }
    }

    /** A computed split ({@code equal} or {@code sqrt_params}) over {@code tensor} or {@code layer} groups. */
    public static PerLayerClipping of(String split, String groups) {
        return new PerLayerClipping(split, null, groups);
    }

    /** Explicit per-group bounds C_l, in group order. */
    public static PerLayerClipping explicit(List<Double> thresholds, String groups) {
        return new PerLayerClipping("explicit", thresholds, groups);
    }

    /** sqrt(Σ C_l²) of an explicit list; NaN for the other splits (which take clip_norm as their total). */
    public double explicitTotal() {
        if (thresholds == null) return Double.NaN;
        double s = 0;
        for (double c : thresholds) s += c * c;
        return Math.sqrt(s);
    }

    /** An explicit list must add up to the configured total, so clip_norm always means the sensitivity. */
    void checkTotal(double clipNorm) {
        if (thresholds == null) return;
        double total = explicitTotal();
        if (Math.abs(total - clipNorm) > TOTAL_TOLERANCE * clipNorm) {
            throw new IllegalArgumentException("privacy.clip_norm (" + clipNorm + ") must equal sqrt(Σ C_l²) = " + total
                    + " of privacy.per_layer.thresholds, the per-example sensitivity; set clip_norm: " + total);
        }
    }
}
