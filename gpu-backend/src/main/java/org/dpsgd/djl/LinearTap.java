package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/**
 * Book-keeping for a linear layer. Per slot, a [K, d] and g [K, p] (K augmented copies); the weight
 * gradient is gᵀa with squared norm ⟨aaᵀ, ggᵀ⟩, which for K = 1 is ‖a‖²‖g‖² (then the gradient is
 * a single outer product and its rounding is relative, so no slack is needed).
 */
final class LinearTap implements Tap {
    private final LinearOp op;
    private final int slots;
    private final int copies;
    private final NDArray input;
    private final NDArray zero;
    private NDArray a; // [N, d] float64
    private NDArray outGrad; // [N, p] float64
    private NDArray biasPerSample; // [S, p] float64

    LinearTap(LinearOp op, int slots, int copies, NDArray input, NDArray zero) {
        this.op = op;
        this.slots = slots;
        this.copies = copies;
        this.input = input;
        this.zero = zero;
    }

    @Override
    public void measure(SlotNorms norms) {
        outGrad = op.store.gradient(zero);
        long p = outGrad.getShape().get(1);
        if (op.weightTrainable()) {
            a = Precision.f64(input);
            long d = a.getShape().get(1);
            ClipBound.checkSize(a.size(), "the input of " + op.layer.name());
            if (copies == 1) {
                // One outer product per slot: its norm and its share of the matmul are off by relative errors only.
                norms.add(
                        op.weight,
                        a.square().sum(new int[] {1}).mul(outGrad.square().sum(new int[] {1})));
            } else {
                NDArray a3 = a.reshape(slots, copies, d);
                NDArray g3 = outGrad.reshape(slots, copies, p);
                NDArray sq = a3.matMul(a3.transpose(0, 2, 1))
                        .mul(g3.matMul(g3.transpose(0, 2, 1)))
                        .sum(new int[] {1, 2});
                NDArray m = a3.square()
                        .sum(new int[] {2})
                        .sqrt()
                        .mul(g3.square().sum(new int[] {2}).sqrt())
                        .sum(new int[] {1});
                norms.addUnformed(
                        op.weight,
                        sq,
                        m,
                        ClipBound.gamma(d + p + (long) copies * copies),
                        ClipBound.gamma(a.getShape().get(0)));
            }
        }
        if (op.biasTrainable()) {
            biasPerSample =
                    copies == 1 ? outGrad : outGrad.reshape(slots, copies, p).sum(new int[] {1});
            norms.add(op.bias, biasPerSample.square().sum(new int[] {1}));
        }
    }

    @Override
    public void accumulateClipped(ClipFactors f) {
        long p = outGrad.getShape().get(1);
        if (op.weightTrainable()) {
            NDArray c = f.of(op.weight);
            NDArray g = f.select(outGrad);
            NDArray perRow = copies == 1 ? c.reshape(slots, 1) : c.reshape(slots, 1, 1);
            NDArray scaled =
                    (copies == 1 ? g : g.reshape(slots, copies, p)).mul(perRow).reshape(-1, p);
            op.store.accumulator(op.weight).addi(scaled.transpose().matMul(f.select(a)));
        }
        if (op.biasTrainable()) {
            NDArray c = f.of(op.bias);
            op.store
                    .accumulator(op.bias)
                    .addi(f.select(biasPerSample).mul(c.reshape(slots, 1)).sum(new int[] {0}));
        }
    }
}
