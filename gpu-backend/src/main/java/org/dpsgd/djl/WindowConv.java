package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * A convolution whose output is a single position (1×1) computed as what it is: one matrix product of
 * the input window that position sees with the weight taps that fall on the input. The taps that fall
 * on padding multiply zeros; oneDNN computes them anyway, and for resnet18-gn at 32×32 (layer4 maps are
 * 1×1, so a 3×3 convolution there uses 1 of its 9 taps) its forward and backward took 76 ms of a
 * ~250 ms non-private step (docs/benchmarks.md "Session 7"). The product needs a fraction of that.
 *
 * <p>Exact in the sense the oracle tests use: the same sum without its zero terms, in another order
 * ({@code WindowConvTest}: forward and the gradients of x, w and b against DJL's convolution in
 * float64). Used only where nothing is recorded: non-private steps, evaluation, and the microbatch
 * strategy's batch-1 loop (plain autograd per example, as for {@link NativeGroupNorm}; its products are
 * shorter than the convolution's sums, so no float error bound grows). The book-keeping strategies keep
 * the convolution their per-sample rules were built and tested on. Null (keep the
 * convolution) off the CPU, for 16-bit types, and wherever the output has more than one position.
 */
final class WindowConv {
    // Off only in NonPrivateStepAb (gpu-backend test classes), which times the step with and without it in one process.
    static boolean enabled = true;

    private WindowConv() {}

    /**
     * y [N, O, 1, 1] = conv2d(x, w, b, stride, padding, dilation 1, groups 1) for x [N, C, H, W], w [O, C,
     * k, k], b [O] or null; or null where this form does not apply (see the class comment).
     */
    static NDArray apply(NDArray x, NDArray w, NDArray b, int stride, int padding) {
        if (!enabled) return null;
        DataType t = x.getDataType();
        if (t != DataType.FLOAT32 && t != DataType.FLOAT64) return null;
        if (!x.getDevice().equals(Device.cpu()) || x.getShape().dimension() != 4) return null;
        long n = x.getShape().get(0);
        long c = x.getShape().get(1);
        long h = x.getShape().get(2);
        long wd = x.getShape().get(3);
        long o = w.getShape().get(0);
        long k = w.getShape().get(2);
        if (w.getShape().get(1) != c || w.getShape().get(3) != k) return null; // groups or non-square: not this form
        if ((h + 2L * padding - k) / stride + 1 != 1 || (wd + 2L * padding - k) / stride + 1 != 1) return null;
        if (h + 2L * padding < k || wd + 2L * padding < k) return null; // no output at all: the convolution refuses
        // The one output position covers padded rows [0, k), i.e. input rows [0, min(h, k - p)) at taps
        // [p, p + rows); the same for columns.
        long rows = Math.min(h, k - padding);
        long cols = Math.min(wd, k - padding);
        if (rows <= 0 || cols <= 0) return null; // the window is all padding (p >= k): leave it to the convolution
        NDArray window = rows == h && cols == wd ? x : x.get(new NDIndex(":, :, :{}, :{}", rows, cols));
        // One tap (a 1x1 map): a select on the flattened taps, whose backward fills one full-size zero
        // weight gradient and writes the tap; two chained slices would fill an intermediate [O, C, 1, k] too.
        NDArray taps = rows == 1 && cols == 1
                ? w.reshape(o, c, k * k).get(new NDIndex(":, :, {}", padding * k + padding))
                : w.get(new NDIndex(":, :, {}:{}, {}:{}", padding, padding + rows, padding, padding + cols));
        NDArray y = window.reshape(n, c * rows * cols)
                .matMul(taps.reshape(o, c * rows * cols).transpose());
        if (b != null) y = y.add(b);
        return y.reshape(n, o, 1, 1);
    }
}
