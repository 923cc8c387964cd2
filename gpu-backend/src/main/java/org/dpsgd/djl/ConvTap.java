package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/**
 * Book-keeping for one convolution. With a the unfolded input [T', d] (columns in {@link ConvOp#unfold}'s
 * order, put back in weight order before anything is added to a weight) and g the output gradient
 * [T', p] of one slot (T' = copies x positions), the weight gradient is gᵀa. Its squared norm is
 * the ghost norm ⟨aaᵀ, ggᵀ⟩ when 2T'² <= p·d (Bu et al.'s mixed rule), else it is formed explicitly.
 * The clipped sum is Σ_i c_i g_iᵀ a_i = (c∘g)ᵀ a over all positions: one matmul, no second backward.
 * Everything after the unfold is float64; the ghost path reports error bounds in M = Σ_t ‖a_t‖‖g_t‖
 * ({@link ClipBound}), the explicit path none (the norm and the sum use the same formed gradient).
 */
final class ConvTap implements Tap {
    private final ConvOp op;
    private final int slots;
    private final int copies;
    private final NDArray input;
    private final NDArray zero;
    private final NDArray[] standardized;
    private NDArray unfolded; // [S, T', d]
    private NDArray outGrad; // [S, T', p]
    private NDArray perSample; // [S, p, d] when formed explicitly
    private NDArray biasPerSample; // [S, p]

    ConvTap(ConvOp op, int slots, int copies, NDArray input, NDArray zero, NDArray[] standardized) {
        this.op = op;
        this.slots = slots;
        this.copies = copies;
        this.input = input;
        this.zero = zero;
        this.standardized = standardized;
    }

    /** Whether the ghost norm is cheaper (Bu et al.): 2T² <= p·d; never with weight standardisation (its Jacobian is not of the form gᵀa). */
    static boolean useGhost(long positions, long p, long d, boolean standardized) {
        return !standardized && 2 * positions * positions <= p * d;
    }

    @Override
    public void measure(SlotNorms norms) {
        NDArray g = op.store.gradient(zero);
        long p = g.getShape().get(1);
        long tPrime = g.getShape().get(2) * g.getShape().get(3) * copies;
        outGrad = g.reshape(g.getShape().get(0), p, -1).transpose(0, 2, 1).reshape(slots, tPrime, p);
        if (op.weightTrainable()) {
            NDArray u = Precision.f64(op.unfold(input));
            ClipBound.checkSize(u.size(), "the unfolded input of " + op.layer.name());
            long d = u.getShape().get(2);
            unfolded = u.reshape(slots, tPrime, d);
            if (useGhost(tPrime, p, d, standardized != null)) {
                ClipBound.checkSize((long) slots * tPrime * tPrime, "the Gram matrix of " + op.layer.name());
                NDArray aa = unfolded.matMul(unfolded.transpose(0, 2, 1));
                NDArray gg = outGrad.matMul(outGrad.transpose(0, 2, 1));
                NDArray prod = aa.mul(gg);
                NDArray sq = prod.sum(new int[] {1, 2});
                // The [S, T', T'] Gram matrices are the largest temporaries of a step: free them now, not at the end of
                // the call.
                aa.close();
                gg.close();
                prod.close();
                NDArray m = unfolded.square()
                        .sum(new int[] {2})
                        .sqrt()
                        .mul(outGrad.square().sum(new int[] {2}).sqrt())
                        .sum(new int[] {1});
                norms.addUnformed(
                        op.weight, sq, m, ClipBound.gamma(d + p + tPrime * tPrime), ClipBound.gamma(slots * tPrime));
            } else {
                perSample = outGrad.transpose(0, 2, 1).matMul(unfolded);
                // Norms do not depend on the column order; the standardisation Jacobian does.
                if (standardized != null) {
                    NDArray[] ws = {Precision.f64(standardized[0]), Precision.f64(standardized[1])};
                    perSample = op.standardizationBackward(op.toWeightOrder(perSample), ws);
                }
                norms.add(op.weight, perSample.square().sum(new int[] {1, 2}));
            }
        }
        if (op.biasTrainable()) {
            biasPerSample = outGrad.sum(new int[] {1});
            norms.add(op.bias, biasPerSample.square().sum(new int[] {1}));
        }
    }

    @Override
    public void accumulateClipped(ClipFactors f) {
        if (op.weightTrainable()) {
            NDArray c = f.of(op.weight);
            NDArray sum;
            if (perSample != null) {
                sum = f.select(perSample).mul(c.reshape(slots, 1, 1)).sum(new int[] {0});
                if (standardized == null) sum = op.toWeightOrder(sum);
            } else {
                long p = outGrad.getShape().get(2);
                long d = unfolded.getShape().get(2);
                NDArray scaled = f.select(outGrad).mul(c.reshape(slots, 1, 1)).reshape(-1, p);
                sum = op.toWeightOrder(
                        scaled.transpose().matMul(f.select(unfolded).reshape(-1, d)));
            }
            NDArray acc = op.store.accumulator(op.weight);
            acc.addi(sum.reshape(acc.getShape()));
        }
        if (op.biasTrainable()) {
            NDArray c = f.of(op.bias);
            op.store
                    .accumulator(op.bias)
                    .addi(f.select(biasPerSample).mul(c.reshape(slots, 1)).sum(new int[] {0}));
        }
    }
}
