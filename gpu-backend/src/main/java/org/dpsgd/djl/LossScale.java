package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;

/**
 * Static loss scaling: the backward pass starts from S instead of 1, so fp16's small per-layer
 * gradients stay above its underflow, and every gradient is divided by S in float64 as it is read,
 * before any norm or clip factor: C stays in true units. S is a power of two, so the division is
 * exact and the value clipped is exactly the value the scaled backward pass produced, over S.
 *
 * <p>Static on purpose: a dynamic scale that shrinks on overflow would be hidden state that depends on
 * the private examples (which of them overflowed), changing how every later example is computed. With
 * a fixed S, whether an example overflows depends only on that example and the public parameters; an
 * example that does is non-finite and contributes exactly 0 ({@link ClipDecision}), like any other.
 */
final class LossScale {
    /** Largest scale accepted: far above any useful fp16 scale, and still exact to divide out. */
    static final long MAX = 1L << 24;
    /** Default for fp16 (the IPU backend's too): per-example losses are summed, not averaged, so small suffices. */
    static final long FP16_DEFAULT = 128;

    static final LossScale NONE = new LossScale(1);

    final double value;

    LossScale(long value) {
        if (value < 1 || value > MAX || Long.bitCount(value) != 1) {
            throw new IllegalArgumentException("setting loss_scale must be a power of two in [1, " + MAX
                    + "] (dividing it out is then exact), got " + value);
        }
        this.value = value;
    }

    /**
     * Reads setting {@code loss_scale} (model settings win over backend settings); absent or 0 (as on
     * the IPU backend) means the default, 128 for fp16 and 1 otherwise. Any precision accepts a scale (in fp32 it changes nothing but where
     * gradients overflow), which is how the scaling itself is tested on machines without fp16.
     */
    static LossScale from(Map<String, String> modelSettings, Map<String, String> backendSettings, Precision p) {
        String v = modelSettings.getOrDefault("loss_scale", backendSettings.get("loss_scale"));
        long s = 0;
        if (v != null) {
            try {
                s = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("setting loss_scale must be a power of two, got '" + v + "'");
            }
        }
        if (s == 0) return p == Precision.FLOAT16 ? new LossScale(FP16_DEFAULT) : NONE;
        return new LossScale(s);
    }

    /** The backward pass's seed for a scalar loss: S where it would be 1. */
    NDArray seed(NDManager manager, NDArray scalar) {
        return value == 1
                ? manager.ones(scalar.getShape(), scalar.getDataType())
                : manager.full(scalar.getShape(), (float) value, scalar.getDataType());
    }

    /** Whether S is 1 (no scaling: gradients are read as they are). */
    boolean isOne() {
        return value == 1;
    }

    /** A leaf's gradient in float64 with S divided out (exact: S is a power of two). */
    NDArray unscaled(NDArray gradient) {
        NDArray g = Precision.f64(gradient);
        return value == 1 ? g : g.div(value);
    }
}
