package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/**
 * Book-keeping for a linear layer. Per slot, a [K, d] and g [K, p] (K augmented copies); the weight
 * gradient is gᵀa with squared norm ⟨aaᵀ, ggᵀ⟩, which for K = 1 is ‖a‖²‖g‖².
 */
final class LinearTap implements Tap {
    private final LinearOp op;
    private final int slots;
    private final int copies;
    private final NDArray input;
    private final NDArray zero;
    private NDArray outGrad;
    private NDArray biasPerSample;

    LinearTap(LinearOp op, int slots, int copies, NDArray input, NDArray zero) {
        this.op = op;
        this.slots = slots;
        this.copies = copies;
        this.input = input;
        this.zero = zero;
    }

    @Override public NDArray squaredNorms() {
        outGrad = zero.getGradient(); // [N, p]
        long p = outGrad.getShape().get(1);
        long d = input.getShape().get(1);
        NDArray sq = null;
        if (op.weightTrainable()) {
            if (copies == 1) {
                sq = input.square().sum(new int[] {1}).mul(outGrad.square().sum(new int[] {1}));
            } else {
                NDArray a = input.reshape(slots, copies, d);
                NDArray g = outGrad.reshape(slots, copies, p);
                sq = a.matMul(a.transpose(0, 2, 1)).mul(g.matMul(g.transpose(0, 2, 1))).sum(new int[] {1, 2});
            }
        }
        if (op.biasTrainable()) {
            biasPerSample = copies == 1 ? outGrad : outGrad.reshape(slots, copies, p).sum(new int[] {1});
            NDArray b = biasPerSample.square().sum(new int[] {1});
            sq = sq == null ? b : sq.add(b);
        }
        return sq;
    }

    @Override public void accumulateClipped(NDArray c) {
        long p = outGrad.getShape().get(1);
        if (op.weightTrainable()) {
            NDArray perRow = copies == 1 ? c.reshape(slots, 1) : c.reshape(slots, 1, 1);
            NDArray scaled = (copies == 1 ? outGrad : outGrad.reshape(slots, copies, p)).mul(perRow).reshape(-1, p);
            op.store.accumulator(op.weight).addi(scaled.transpose().matMul(input));
        }
        if (op.biasTrainable()) {
            op.store.accumulator(op.bias).addi(biasPerSample.mul(c.reshape(slots, 1)).sum(new int[] {0}));
        }
    }
}
