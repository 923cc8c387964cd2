package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/**
 * A formed per-sample gradient's clipped sum Σ_i c_i G̃_i over a call's slots as ONE float64 product cᵀ[S, n]: per
 * coordinate a float64 dot product of the factors and that coordinate's S values, off by at most γ(S)·Σ_i c_i·|G̃_i|
 * (Higham's dot-product bound, any summation order, with or without fused multiply-adds), which is within the
 * (1 + 2⁻²⁰)² that docs/core.md "Float margin" item 4 budgets for the scaling and the slot sum of the multiply-then-sum
 * it replaces; one op and no [S, n] temporary of scaled rows instead of two ops and one (issue 12 §1: small-cnn's
 * biases and GroupNorm rows, the linear layer's explicit path; the explicit conv path already summed this way).
 */
final class ClippedSums {
    private ClippedSums() {}

    /**
     * Σ_i c_i x_i as [n]: {@code c} the slots' float64 factors [S], {@code x} the float64 per-sample values [S, ...]
     * with every dropped slot already selected out ({@link ClipFactors#select}). A vector-matrix product (PyTorch's
     * matmul of a 1-D c), so c needs no reshape; the caller reshapes the result to the parameter's shape (a view).
     */
    static NDArray of(NDArray c, NDArray x) {
        long slots = c.getShape().get(0);
        if (x.getShape().get(0) != slots)
            throw new IllegalArgumentException("factors for " + slots + " slots, values " + x.getShape());
        NDArray rows = x.getShape().dimension() == 2 ? x : x.reshape(slots, -1);
        return c.matMul(rows);
    }
}
