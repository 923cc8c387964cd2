package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/**
 * Book-keeping for GroupNorm's affine: per slot, weight gradient Σ g·x̂ and bias gradient Σ g per
 * channel, formed in float64 (so the norm and the clipped sum use the same formed values).
 */
final class GroupNormTap implements Tap {
    private final GroupNormOp op;
    private final int slots;
    private final int copies;
    private final NDArray normalized;
    private final NDArray zero;
    private NDArray weightGrad; // [S, C]
    private NDArray biasGrad; // [S, C]

    GroupNormTap(GroupNormOp op, int slots, int copies, NDArray normalized, NDArray zero) {
        this.op = op;
        this.slots = slots;
        this.copies = copies;
        this.normalized = normalized;
        this.zero = zero;
    }

    @Override
    public void measure(SlotNorms norms) {
        NDArray g = op.store.gradient(zero);
        int c = op.layer.channels();
        int[] axes = {1, 3};
        if (op.store.trainable(op.weight)) {
            weightGrad = g.mul(Precision.f64(normalized))
                    .reshape(slots, copies, c, -1)
                    .sum(axes);
            norms.add(op.weight, weightGrad.square().sum(new int[] {1}));
        }
        if (op.store.trainable(op.bias)) {
            biasGrad = g.reshape(slots, copies, c, -1).sum(axes);
            norms.add(op.bias, biasGrad.square().sum(new int[] {1}));
        }
    }

    @Override
    public void accumulateClipped(ClipFactors f) {
        if (weightGrad != null) {
            NDArray c = f.of(op.weight).reshape(slots, 1);
            op.store.accumulator(op.weight).addi(f.select(weightGrad).mul(c).sum(new int[] {0}));
        }
        if (biasGrad != null) {
            NDArray c = f.of(op.bias).reshape(slots, 1);
            op.store.accumulator(op.bias).addi(f.select(biasGrad).mul(c).sum(new int[] {0}));
        }
    }
}
