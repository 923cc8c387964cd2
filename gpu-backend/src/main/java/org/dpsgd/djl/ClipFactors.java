package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.dpsgd.backend.ClipPolicy;

/** A call's clip factors on the device (float64, one row per group) and the selection that drops non-finite slots. */
final class ClipFactors {
    private final ClipPolicy policy;
    private final NDArray perGroup; // [groups, slots]
    private final NDArray keep; // [slots, 1] boolean, null when every slot is kept
    private final int slots;

    ClipFactors(NDManager manager, ClipPolicy policy, ClipDecision d) {
        this.policy = policy;
        this.slots = d.keep.length;
        double[] flat = new double[d.factors.length * slots];
        for (int g = 0; g < d.factors.length; g++) System.arraycopy(d.factors[g], 0, flat, g * slots, slots);
        this.perGroup = manager.create(flat, new Shape(d.factors.length, slots));
        this.keep = d.anyDropped ? manager.create(d.keep).reshape(slots, 1) : null;
    }

    /** Factors [slots] of parameter {@code param}'s group. */
    NDArray of(int param) {
        return perGroup.get(policy.groupOf(param));
    }

    /**
     * {@code x} (leading axis: slots, or slots·copies rows in slot order) with every dropped slot's
     * entries replaced by 0 through a select, so NaN or Inf there cannot reach the sum.
     */
    NDArray select(NDArray x) {
        if (keep == null) return x;
        Shape s = x.getShape();
        NDArray rows = x.reshape(slots, -1);
        // DJL's where does not broadcast: expand the [slots, 1] condition to the rows' shape (a view).
        return NDArrays.where(keep.broadcast(rows.getShape()), rows, rows.zerosLike())
                .reshape(s);
    }
}
