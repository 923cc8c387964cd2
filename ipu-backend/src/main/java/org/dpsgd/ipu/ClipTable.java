package org.dpsgd.ipu;

import java.math.BigDecimal;
import java.util.Arrays;
import org.dpsgd.backend.ClipPolicy;

/**
 * The per-call clip table the native TRAIN program reads (native/include/dpsgd_ipu/IpuSession.hpp,
 * runSteps): for each trainable parameter tensor t, in parameter order with frozen tensors skipped,
 * its bound C_t, then its clip group id. The device sums each slot's squared gradient norms over
 * tensors with equal ids and clips each group to its bound, so one table expresses flat clipping (one
 * group, bound C), per-layer clipping (a {@link ClipPolicy}'s groups and thresholds) and the
 * non-private baseline (bounds +infinity: factor 1).
 *
 * <p>Every finite bound is sent as the largest float ≤ C_t·(1 − μ), μ the coupling margin of the
 * device's float32 accumulators ({@link AccumulatorMargin}); the device lowers it once more by its own
 * 2^−10 (ClipExpr.hpp kMargin), which covers each example's own clipped value.
 */
final class ClipTable {
    private ClipTable() {}

    /** Smallest bound the native side accepts: below it fp32 rounding of tiny products is not covered by the margin. */
    static final double MIN_BOUND = 1e-30;

    /**
     * @param policy the clip policy over all parameter tensors (Network.parameters() order)
     * @param trainable indices of the trainable (not frozen) parameter tensors, ascending
     * @param lowering μ, in [0, 1): each bound is sent as the largest float ≤ C_t·(1 − μ)
     */
    static float[] of(ClipPolicy policy, int[] trainable, BigDecimal lowering) {
        if (lowering.signum() < 0 || lowering.compareTo(BigDecimal.ONE) >= 0)
            throw new IllegalArgumentException("lowering must be in [0, 1), got " + lowering);
        int t = trainable.length;
        float[] table = new float[2 * t];
        for (int i = 0; i < t; i++) {
            double bound = policy.thresholdOf(trainable[i]);
            if (bound < MIN_BOUND) {
                throw new IllegalArgumentException("clip bound " + bound + " is below " + MIN_BOUND
                        + ", which the IPU's rounding margin does not cover");
            }
            // Bounds past float's range are lowered from Float.MAX_VALUE (still a bound: it only shrinks).
            table[i] = AccumulatorMargin.lower(Math.min(bound, Float.MAX_VALUE), lowering);
            table[t + i] = policy.groupOf(trainable[i]);
        }
        return table;
    }

    /** Every bound +infinity: each slot's factor is 1 (the non-private baseline, and per-sample norms). */
    static float[] unclipped(int trainableTensors) {
        float[] table = new float[2 * trainableTensors];
        Arrays.fill(table, 0, trainableTensors, Float.POSITIVE_INFINITY);
        return table;
    }

    /** The largest float not above {@code bound}: a bound rounded up to float could exceed the sensitivity. */
    static float roundDown(double bound) {
        float f = (float) bound;
        return f > bound ? Math.nextDown(f) : f;
    }
}
