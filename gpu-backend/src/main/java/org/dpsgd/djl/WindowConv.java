package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * A convolution whose output is a single position (1×1) computed as what it is: one matrix product of
 * the zero-padded input window that position sees, [N, C·k·k] in weight order, with the weight [O,
 * C·k·k] as it lies (a GEMM forward, two backward). For resnet18-gn at 32×32, layer4's maps are 1×1
 * (2×2 at its entry), and oneDNN's direct convolution ran these five convolutions at a fraction of the
 * GEMM's rate: forward and backward took 137 ms against 92 ms this way, process CPU 130 against 90 ms
 * (docs/benchmarks.md "Session 7"). A form that dropped the padding taps (a slice of the weight) did
 * less arithmetic but was no faster: the slice's strided reads and the zero-filled full-size weight
 * gradient of its backward cost what the arithmetic saved.
 *
 * <p>The same products as the convolution, zeros included, summed by another kernel in another order
 * ({@code WindowConvTest}: forward and the gradients of x, w and b against DJL's convolution, 1e-13 in
 * float64). Used only where nothing is recorded: non-private steps, evaluation, and the microbatch
 * strategy's batch-1 loop (plain autograd per example, as for {@link NativeGroupNorm}; a dot product of
 * the same length as the convolution's, so no float error bound changes). The book-keeping strategies
 * keep the convolution their per-sample rules were built and tested on. Null (keep the convolution)
 * off the CPU, for 16-bit types, wherever the output has more than one position, and where the window would
 * crop two or more rows or columns of the input.
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
        // The output position sees padded rows and columns [0, k): the padded window in weight order, so the
        // products read the weight as it lies and its gradient is one product, written once. One constant pad
        // cuts it out: `padding` zeros before, and after as many as the window still needs, negative where it
        // ends inside the input (constant_pad_nd crops there). A pad then a slice cost a second copy forward
        // and a zero fill plus a copy in the backward (resnet18-gn's layer4: ~2 ms per step, session 9).
        long right = k - padding - wd;
        long bottom = k - padding - h;
        // DJL's Shape refuses entries below -1, so a crop of two or more (a stride of 3 or more, or padding >= k:
        // no model of the zoo, but any Network may) keeps the convolution rather than failing (review of session 9).
        if (right < -1 || bottom < -1) return null;
        NDArray window = padding == 0 && right == 0 && bottom == 0
                ? x
                : x.pad(
                        new ai.djl.ndarray.types.Shape(padding, right, padding, bottom),
                        0); // (left, right, top, bottom)
        NDArray y = window.reshape(n, c * k * k).matMul(w.reshape(o, c * k * k).transpose());
        if (b != null) y = y.add(b);
        return y.reshape(n, o, 1, 1);
    }
}
