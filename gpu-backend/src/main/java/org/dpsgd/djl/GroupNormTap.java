package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/** Book-keeping for GroupNorm's affine: per slot, weight gradient Σ g·x̂ and bias gradient Σ g per channel. */
final class GroupNormTap implements Tap {
    private final GroupNormOp op;
    private final int slots;
    private final int copies;
    private final NDArray normalized;
    private final NDArray zero;
    private NDArray weightGrad; // [S, C]
    private NDArray biasGrad;   // [S, C]

    GroupNormTap(GroupNormOp op, int slots, int copies, NDArray normalized, NDArray zero) {
        this.op = op;
        this.slots = slots;
        this.copies = copies;
        this.normalized = normalized;
        this.zero = zero;
    }

    @Override public NDArray squaredNorms() {
        NDArray g = zero.getGradient();
        int c = op.layer.channels();
        int[] axes = {1, 3};
        NDArray sq = null;
        if (op.store.trainable(op.weight)) {
            weightGrad = g.mul(normalized).reshape(slots, copies, c, -1).sum(axes);
            sq = weightGrad.square().sum(new int[] {1});
        }
        if (op.store.trainable(op.bias)) {
            biasGrad = g.reshape(slots, copies, c, -1).sum(axes);
            NDArray b = biasGrad.square().sum(new int[] {1});
            sq = sq == null ? b : sq.add(b);
        }
        return sq;
    }

    @Override public void accumulateClipped(NDArray c) {
        NDArray perSlot = c.reshape(slots, 1);
        if (weightGrad != null) op.store.accumulator(op.weight).addi(weightGrad.mul(perSlot).sum(new int[] {0}));
        if (biasGrad != null) op.store.accumulator(op.bias).addi(biasGrad.mul(perSlot).sum(new int[] {0}));
    }
}
