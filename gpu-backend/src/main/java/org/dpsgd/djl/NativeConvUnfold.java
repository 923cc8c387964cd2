package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;

/**
 * A convolution's unfolded input (im2col) as ONE strided view of the zero-padded input, copied once,
 * and the per-sample weight gradient formed from it by one batched matmul, each in a single native
 * call (issue 12 §1). DJL's JNI has neither {@code as_strided} nor an unfold op; like {@link
 * NativeGroupNorm} these are reached through TorchScript: a module whose forward is a few aten calls,
 * written here as source text (plus the fixed bytes of a TorchScript archive) and compiled by the
 * engine's own libtorch when first used, one per geometry.
 *
 * <p>The view of the padded input [S·K, C, Hp, Wp] is [S, C, k, k, K, Ho, Wo] with element
 * (s, c, i, j, q, h, w) = xp[s·K + q, c, h·st + i, w·st + j]; its copy is the unfold [S, C·k·k, K·Ho·Wo]
 * with rows in PyTorch's weight order (c, kh, kw) and columns in the slot-major position order of
 * {@code Conv2dRule.Record#slotMajor}. A copy moves values and pads with exact zeros, so the unfold is
 * bit-identical to the slice and reshape unfolds on any device and in any type. Inner runs are
 * Wo contiguous floats (stride 1), where the slice path moved runs of C after an NHWC copy and a
 * k²-way stack, and PyTorch's own {@code im2col} kernel moves single floats with bounds checks.
 *
 * <p>{@link #formedGradients} goes one step further for small layers: formation, float64 casts and squared
 * norms of the weight's and the bias's per-sample gradients in one call, the formation either as above or,
 * with no unfold, as the weight gradient of a convolution grouped by slot.
 */
final class NativeConvUnfold {
    private final TorchScriptModules modules;

    NativeConvUnfold(NDManager manager) {
        this.modules = new TorchScriptModules(manager, "unfold", "ConvUnfold");
    }

    /**
     * The unfold of {@code x} [S·K, C, H, W] (K = {@code copies}) as [S, C·k·k, K·Ho·Wo]: rows in weight
     * order (c, kh, kw), columns slot-major (copy, ho, wo). A contiguous copy.
     */
    NDArray unfold(NDArray x, int kernel, int stride, int padding, int copies) {
        String body = view(kernel, stride, padding, copies) + "    return torch.reshape(u, [s, torch.mul(c, "
                + kernel * kernel + "), torch.mul(torch.mul(" + copies + ", ho), wo)])\n";
        return call("x: Tensor) -> Tensor", body, new NDList(x));
    }

    /**
     * The unfold of {@code x} [S·K, C, H, W] (K = {@code copies}) position-major, as [S, K·Ho·Wo, C·k·k]: rows
     * slot-major (copy, ho, wo) as {@link #unfold}'s columns, columns in weight order (c, kh, kw). A contiguous copy
     * in runs of k floats. For the ghost path ({@code Conv2dRule}): its Gram matrices and its clipped sum read the
     * unfold as [S·T', d] rows, and weight-order columns give the sum in the weight's layout with no reorder of
     * the [p, d] result (a copy of p·d values per layer, the size of the weight, where this copy is S·T'·d).
     */
    NDArray unfoldRows(NDArray x, int kernel, int stride, int padding, int copies) {
        return unfoldRows(x, kernel, stride, padding, copies, new int[] {0, kernel, 0, kernel});
    }

    /**
     * {@link #unfoldRows} restricted to the kernel taps of {@code window} = {first row tap, rows, first column tap,
     * columns}: [S, K·Ho·Wo, C·rows·columns], columns in (c, kh, kw) order over the window's taps only, the positions
     * still those of the whole k×k kernel. Where the window holds every tap that reads the real input ({@link
     * #liveTaps}), the columns left out are exactly zero in the whole unfold (they read only padding), so the ghost
     * norm's Gram matrix and clipped sum over the window have the whole unfold's values (docs/core.md "Float
     * margin" item 3 is unchanged: it counts d, which only grows with the columns).
     */
    NDArray unfoldRows(NDArray x, int kernel, int stride, int padding, int copies, int[] window) {
        int kh0 = window[0];
        int lh = window[1];
        int kw0 = window[2];
        int lw = window[3];
        // as_strided's offset is absolute in the storage: with padding 0, xp may be x itself, a view that
        // starts past its storage's first element, so the window's offset is added to xp's own.
        checkWindow(window, kernel);
        String body = paddedSizes(kernel, stride, padding, copies)
                + "    u = torch.as_strided(xp, [s, " + copies + ", ho, wo, c, " + lh + ", " + lw + "], "
                + "[torch.mul(" + copies + ", chw), chw, torch.mul(" + stride + ", wp), " + stride
                + ", torch.mul(hp, wp), wp, 1], torch.add(xp.storage_offset(), torch.add(torch.mul(" + kh0
                + ", wp), " + kw0 + ")))\n"
                + "    return torch.reshape(torch.contiguous(u), [s, torch.mul(torch.mul(" + copies
                + ", ho), wo), torch.mul(c, " + lh * lw + ")])\n";
        return call("x: Tensor) -> Tensor", body, new NDList(x));
    }

    /**
     * {@link #unfoldRows} with a window, its columns in kernel-major order (kh, kw, c) over the window's taps: [S,
     * K·Ho·Wo, rows·columns·C]. The same values, only the columns permuted: the copy moves runs of C contiguous
     * floats of a padded NHWC copy of x instead of runs of at most k (resnet18-gn's layer2 and layer3 ghost unfolds,
     * ~3–5× faster), for the ghost norm, whose Gram matrix and M do not depend on the column order, and its clipped
     * sum, whose [p, rows·columns·C] product {@link #kernelMajorToWindowOrder} reorders (a copy, exact).
     */
    NDArray unfoldRowsKernelMajor(NDArray x, int kernel, int stride, int padding, int copies, int[] window) {
        int kh0 = window[0];
        int lh = window[1];
        int kw0 = window[2];
        int lw = window[3];
        checkWindow(window, kernel);
        String body = nhwcView(kernel, stride, padding, copies, kh0, lh, kw0, lw)
                + "    return torch.reshape(torch.contiguous(u), [s, torch.mul(torch.mul(" + copies
                + ", ho), wo), torch.mul(c, " + lh * lw + ")])\n";
        return call("x: Tensor) -> Tensor", body, new NDList(x));
    }

    /**
     * Reorders the columns of m [p, rows·columns·C] ({@link #unfoldRowsKernelMajor}'s order, kh, kw, c) to [p,
     * C·rows·columns] ({@link #unfoldRows}'s, c, kh, kw): a copy, no arithmetic.
     */
    static NDArray kernelMajorToWindowOrder(NDArray m, int rows, int columns) {
        long p = m.getShape().get(0);
        long c = m.getShape().get(1) / ((long) rows * columns);
        return m.reshape(p, rows, columns, c).transpose(0, 3, 1, 2).reshape(p, c * rows * columns);
    }

    /**
     * Adds {@code sum} [p, C·rows·columns] (the clipped sum over {@code window}'s taps, as {@link #unfoldRows} with
     * a window gives it) into those taps of {@code acc} [p, C, k, k], in place: one addition per coordinate, as
     * {@code addi}; the other taps are not touched.
     */
    void addToTaps(NDArray acc, NDArray sum, int[] window) {
        String body = "    v = torch.slice(torch.slice(acc, 2, " + window[0] + ", " + (window[0] + window[1]) + "), 3, "
                + window[2] + ", " + (window[2] + window[3]) + ")\n"
                + "    return torch.add_(v, torch.reshape(sum, torch.size(v)))\n";
        // The result is a view of acc's window: only its handle is closed here, acc keeps the storage.
        call("acc: Tensor, sum: Tensor) -> Tensor", body, new NDList(acc, sum)).close();
    }

    /**
     * The kernel taps along one axis that read the real input at some output position, as {first, count}: the
     * hull of the taps i with 0 ≤ o·stride + i − padding &lt; size for some output position o. Every tap outside
     * it reads only the zero padding at every position (resnet18-gn's layer4 at 3x32x32, a 3x3 kernel with padding
     * 1 over a 1x1 input: only the centre tap, 1 of 9 columns of its unfold).
     */
    static int[] liveTaps(long size, int kernel, int stride, int padding) {
        long out = (size + 2L * padding - kernel) / stride + 1;
        int first = -1;
        int last = -1;
        for (int i = 0; i < kernel; i++) {
            // o·stride + i − padding ∈ [0, size) for some o ∈ [0, out): the smallest o with o·stride ≥ padding − i
            long need = padding - i;
            long o = need <= 0 ? 0 : (need + stride - 1) / stride;
            if (o < out && o * stride + i - padding < size) {
                if (first < 0) first = i;
                last = i;
            }
        }
        // A legal conv whose every window lies in the padding (a 1x1 kernel, stride 2, padding 1 on a 1x1 input): its
        // unfold is all zeros, so the whole kernel is kept and the layer's sum is exactly zero.
        if (first < 0) return new int[] {0, kernel};
        return new int[] {first, last - first + 1};
    }

    /**
     * Per-sample weight gradients [S, p, C·k·k] of the output gradient {@code g} [S, p, K·Ho·Wo] (columns slot-major
     * as {@link #unfold}'s) and the input {@code x} [S·K, C, H, W]: g · U per slot with U [S, K·Ho·Wo, C·k·k] the
     * unfold, one batched matmul in x's and g's type. {@code kernelMajor}: U's columns in (kh, kw, c) order,
     * copied from a padded NHWC copy of x in runs of k·C floats, for many channels; else in weight order
     * (c, kh, kw), copied from the padded NCHW input in runs of Wo floats and multiplied transposed.
     */
    NDArray perSampleGradient(
            NDArray x, NDArray g, int kernel, int stride, int padding, int copies, boolean kernelMajor) {
        String rows = "torch.mul(torch.mul(" + copies + ", ho), wo)";
        String cols = "torch.mul(c, " + kernel * kernel + ")";
        String body = kernelMajor
                ? nhwcView(kernel, stride, padding, copies) + "    _u = torch.reshape(u, [s, " + rows + ", " + cols
                        + "])\n    return torch.bmm(g, _u)\n"
                : view(kernel, stride, padding, copies) + "    _u = torch.reshape(u, [s, " + cols + ", " + rows
                        + "])\n    return torch.bmm(g, torch.transpose(_u, 1, 2))\n";
        return call("x: Tensor, g: Tensor) -> Tensor", body, new NDList(x, g));
    }

    /**
     * A convolution's per-sample gradients and their squared norms in ONE native call, from its input x
     * [S·K, C, H, W] and output gradient g [S·K, p, Ho, Wo] (the leaf's gradient as it is; K = {@code copies}).
     * Returns, in this order and each only where asked: the weight gradients [S, p, C·k·k] in weight order
     * (c, kh, kw) and their squared norms [S], the bias gradients [S, p] (Σ over copies and positions) and
     * their squared norms [S]. The gradients are formed in x's and g's type (float32 or float64), each a
     * function of its own slot's input and output gradient only, then cast to float64 (exact) and divided by
     * {@code lossScale} (a power of two: exact, as {@link LossScale#unscaled}); the norms are float64 sums of
     * squares of those same float64 values ({@link ClipBound}'s formed case).
     *
     * <p>{@code grouped}: formed as the weight gradient of ONE grouped convolution with a group per slot
     * (Opacus's expanded-weights trick): x as [K, S·C, H, W], g as [K, S·p, Ho, Wo], PyTorch's convolution
     * backward with S groups; group s reads slot s's channels only, summed over its K copies (the grouped
     * call's batch axis). No unfold is made: fast for many input channels (small-cnn's conv2). Otherwise the
     * weight-order unfold of {@link #view} and one batched matmul, as {@link #perSampleGradient}, for few input
     * channels (a network's first layer), where S groups of C channels are too thin for the grouped kernel; with
     * the weight, the bias is one more unfold row of ones in the same matmul (Σ_positions g·1, its own slot's
     * float32 sum as before, in another order), else a sum over positions. The squared norms are batched float64
     * dot products of each slot's row with itself ({@link #squaredNorms}); session 10 measured conv1 at batch 64
     * 1.16 → 0.98 ms and the cast-and-norm of conv2's [64, 32, 144] 0.40 → 0.25 ms (docs/benchmarks.md
     * "Session 10: small-cnn's taps").
     */
    NDList formedGradients(
            NDArray x,
            NDArray g,
            int kernel,
            int stride,
            int padding,
            int copies,
            boolean weight,
            boolean bias,
            long lossScale,
            boolean grouped) {
        check(kernel, stride, padding, copies);
        if (lossScale < 1 || Long.bitCount(lossScale) != 1)
            throw new IllegalArgumentException("loss scale must be a power of two, got " + lossScale);
        // Divided out in float64 after the cast, as LossScale.unscaled does: exact for a power of two.
        String unscale = lossScale == 1 ? "" : ", " + lossScale + ".";
        if (!weight && !bias) throw new IllegalArgumentException("neither the weight nor the bias is asked for");
        String k = Integer.toString(kernel);
        String body = "    p = torch.size(g, 1)\n" + "    s = torch.floordiv(torch.size(x, 0), " + copies + ")\n";
        if (grouped) {
            body += "    c = torch.size(x, 1)\n"
                    + "    xs = " + copiesFirst("x", "c", copies) + "\n"
                    + "    gs = " + copiesFirst("g", "p", copies) + "\n"
                    + "    wt = torch.new_empty(x, [torch.mul(s, p), c, " + k + ", " + k + "])\n"
                    + "    _0, gw, gb = torch.convolution_backward(gs, xs, wt, [torch.mul(s, p)], [" + stride + ", "
                    + stride + "], [" + padding + ", " + padding + "], [1, 1], False, [0, 0], s, [False, "
                    + pyBool(weight) + ", " + pyBool(bias) + "])\n";
        } else {
            String slotMajor = copies == 1
                    ? "torch.reshape(g, [s, p, -1])"
                    : "torch.reshape(torch.transpose(torch.reshape(g, [s, " + copies + ", p, -1]), 1, 2), [s, p, -1])";
            body += "    gm = " + slotMajor + "\n";
            String d = "torch.mul(c, " + kernel * kernel + ")";
            String positions = "torch.mul(torch.mul(" + copies + ", ho), wo)";
            if (weight && bias) {
                // The bias as one more unfold row of ones: the batched matmul forms Σ_positions g·1 beside the
                // weight's Σ_positions g·a, with no second pass over g (the same float32 sum in another order: a
                // formed value like the weight's, cast and measured the same way). The view is copied straight
                // into the rows above it, the ones row filled.
                body += view(kernel, stride, padding, copies)
                        + "    _u = torch.new_empty(x, [s, torch.add(" + d + ", 1), " + positions + "])\n"
                        + "    _v = torch.copy_(torch.reshape(torch.narrow(_u, 1, 0, " + d + "), [s, c, " + kernel
                        + ", "
                        + kernel + ", " + copies + ", ho, wo]), u)\n"
                        + "    _o = torch.fill_(torch.select(_u, 1, " + d + "), 1.)\n"
                        + "    gwb = torch.bmm(gm, torch.transpose(_u, 1, 2))\n"
                        + "    gw = torch.narrow(gwb, 2, 0, " + d + ")\n"
                        + "    gb = torch.select(gwb, 2, " + d + ")\n";
            } else {
                if (weight) {
                    body += view(kernel, stride, padding, copies)
                            + "    _u = torch.reshape(u, [s, " + d + ", " + positions + "])\n"
                            + "    gw = torch.bmm(gm, torch.transpose(_u, 1, 2))\n";
                }
                if (bias) body += "    gb = torch.sum(gm, [2])\n";
            }
        }
        StringBuilder ret = new StringBuilder();
        int outs = 0;
        if (weight) {
            body += "    w64 = torch.reshape(" + divided("torch.to(gw, 7)", unscale) + ", [s, p, -1])\n" + "    wsq = "
                    + squaredNorms("w64") + "\n";
            ret.append("w64, wsq");
            outs += 2;
        }
        if (bias) {
            body += "    b64 = torch.reshape(" + divided("torch.to(gb, 7)", unscale) + ", [s, p])\n" + "    bsq = "
                    + squaredNorms("b64") + "\n";
            ret.append(outs > 0 ? ", " : "").append("b64, bsq");
            outs += 2;
        }
        body += "    return (" + ret + ")\n";
        String types = String.join(", ", java.util.Collections.nCopies(outs, "Tensor"));
        return IValueUtils.forward(
                module("x: Tensor, g: Tensor) -> Tuple[" + types + "]", body), new NDList(x, g), true);
    }

    /**
     * TorchScript for the squared norm of each slot's row of the float64 {@code t} [S, ...]: one batched dot product of
     * the row with itself, float64 products summed in float64 (with or without fused multiply-adds; any order), so
     * the error is relative, γ(n) of the sum (docs/core.md "Float margin" item 2), as the square-then-sum it replaces,
     * with one pass over t instead of a squared copy and a second pass (issue 12 §1).
     */
    private static String squaredNorms(String t) {
        return "torch.reshape(torch.bmm(torch.reshape(" + t + ", [s, 1, -1]), torch.reshape(" + t
                + ", [s, -1, 1])), [s])";
    }

    /** TorchScript for t [S·K, C, ...] as [K, S·C, ...] (a reshape for K = 1, else a transposed copy). */
    private static String copiesFirst(String t, String channels, int copies) {
        if (copies == 1)
            return "torch.reshape(" + t + ", [1, torch.mul(s, " + channels + "), torch.size(" + t + ", 2), torch.size("
                    + t + ", 3)])";
        return "torch.reshape(torch.transpose(torch.reshape(" + t + ", [s, " + copies + ", " + channels
                + ", torch.size("
                + t + ", 2), torch.size(" + t + ", 3)]), 0, 1), [" + copies + ", torch.mul(s, " + channels
                + "), torch.size(" + t + ", 2), torch.size(" + t + ", 3)])";
    }

    private static String divided(String expr, String unscale) {
        return unscale.isEmpty() ? expr : "torch.div(" + expr + unscale + ")";
    }

    private static String pyBool(boolean b) {
        return b ? "True" : "False";
    }

    /**
     * Whether {@link #perSampleGradient} copies kernel-major: when its runs of k·C contiguous floats are at
     * least as long as the weight-order copy's runs of Wo (small-cnn: conv1, C = 1, weight order; conv2,
     * C = 16 at 14×14, kernel-major).
     */
    static boolean kernelMajor(long channels, int kernel, long outWidth) {
        return channels * kernel >= outWidth;
    }

    /** Like {@link #view} over a padded NHWC copy: u is [S, K, Ho, Wo, k, k, C]. */
    static String nhwcView(int kernel, int stride, int padding, int copies) {
        return nhwcView(kernel, stride, padding, copies, 0, kernel, 0, kernel);
    }

    /** {@link #nhwcView} over the kernel taps [kh0, kh0 + lh) × [kw0, kw0 + lw): u is [S, K, Ho, Wo, lh, lw, C]. */
    private static String nhwcView(int kernel, int stride, int padding, int copies, int kh0, int lh, int kw0, int lw) {
        check(kernel, stride, padding, copies);
        String p = Integer.toString(padding);
        // xp may be a view of x (no padding, and a permute that is already contiguous: C = 1 or a 1x1 map), so the
        // strided view's offset adds xp's own (as_strided's offset is absolute in the storage).
        return "    xp = torch.contiguous(torch.constant_pad_nd(torch.permute(x, [0, 2, 3, 1]), [0, 0, " + p + ", " + p
                + ", " + p + ", " + p + "], 0.))\n"
                + "    hp = torch.size(xp, 1)\n"
                + "    wp = torch.size(xp, 2)\n"
                + "    c = torch.size(xp, 3)\n"
                + "    ho = torch.add(torch.floordiv(torch.sub(hp, " + kernel + "), " + stride + "), 1)\n"
                + "    wo = torch.add(torch.floordiv(torch.sub(wp, " + kernel + "), " + stride + "), 1)\n"
                + "    s = torch.floordiv(torch.size(xp, 0), " + copies + ")\n"
                + "    hwc = torch.mul(torch.mul(hp, wp), c)\n"
                + "    u = torch.as_strided(xp, [s, " + copies + ", ho, wo, " + lh + ", " + lw + ", c], "
                + "[torch.mul(" + copies + ", hwc), hwc, torch.mul(" + stride + ", torch.mul(wp, c)), torch.mul("
                + stride + ", c), torch.mul(wp, c), c, 1], torch.add(xp.storage_offset(), torch.mul(torch.add("
                + "torch.mul(" + kh0 + ", wp), " + kw0 + "), c)))\n";
    }

    /** A tap window {first row tap, rows, first column tap, columns} must lie inside the k×k kernel. */
    private static void checkWindow(int[] window, int kernel) {
        int kh0 = window[0];
        int lh = window[1];
        int kw0 = window[2];
        int lw = window[3];
        if (kh0 < 0 || lh < 1 || kh0 + lh > kernel || kw0 < 0 || lw < 1 || kw0 + lw > kernel)
            throw new IllegalArgumentException(
                    "bad tap window " + java.util.Arrays.toString(window) + " for kernel " + kernel);
    }

    private static void check(int kernel, int stride, int padding, int copies) {
        if (kernel < 1 || stride < 1 || padding < 0 || copies < 1) {
            throw new IllegalArgumentException("bad unfold geometry: kernel " + kernel + ", stride " + stride
                    + ", padding " + padding + ", copies " + copies);
        }
    }

    /**
     * TorchScript lines that bind xp (x padded, as a fresh contiguous NCHW tensor), c, hp, wp, ho, wo, s (slots) and
     * chw, for {@link #view} and {@link #unfoldRows} to take their strided views of.
     */
    private static String paddedSizes(int kernel, int stride, int padding, int copies) {
        check(kernel, stride, padding, copies);
        String p = Integer.toString(padding);
        // as_strided addresses the storage directly: xp must be contiguous. With padding 0 it may be x itself, a
        // view past its storage's start, so an explicit offset must add xp's own (unfoldRows does).
        String padded = padding == 0
                ? "torch.contiguous(x)"
                : "torch.contiguous(torch.constant_pad_nd(x, [" + p + ", " + p + ", " + p + ", " + p + "], 0.))";
        return "    xp = " + padded + "\n"
                + "    c = torch.size(xp, 1)\n"
                + "    hp = torch.size(xp, 2)\n"
                + "    wp = torch.size(xp, 3)\n"
                + "    ho = torch.add(torch.floordiv(torch.sub(hp, " + kernel + "), " + stride + "), 1)\n"
                + "    wo = torch.add(torch.floordiv(torch.sub(wp, " + kernel + "), " + stride + "), 1)\n"
                + "    s = torch.floordiv(torch.size(xp, 0), " + copies + ")\n"
                + "    chw = torch.mul(torch.mul(c, hp), wp)\n";
    }

    /** TorchScript lines that bind u (the strided view), s, c, ho and wo; x is made contiguous first. */
    static String view(int kernel, int stride, int padding, int copies) {
        return paddedSizes(kernel, stride, padding, copies)
                + "    u = torch.as_strided(xp, [s, c, " + kernel + ", " + kernel + ", " + copies + ", ho, wo], "
                + "[torch.mul(" + copies + ", chw), torch.mul(hp, wp), wp, 1, chw, torch.mul(" + stride + ", wp), "
                + stride + "])\n";
    }

    private NDArray call(String signature, String body, NDList in) {
        // isTrain = true only means "no no-grad guard": whether autograd records is the caller's grad mode.
        return IValueUtils.forward(module(signature, body), in, true).singletonOrThrow();
    }

    private PtSymbolBlock module(String signature, String body) {
        String src = "class ConvUnfold(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__.ConvUnfold, " + signature + ":\n" + body;
        return modules.get(src, () -> src);
    }

    /** The module's TorchScript archive ({@link TorchScriptArchive}). */
    static byte[] archive(String source) {
        return TorchScriptArchive.of("unfold", "ConvUnfold", source);
    }
}
