package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.dpsgd.model.Layer;

/** Conv2d (PyTorch weight layout), with optional per-output-channel weight standardisation. */
final class ConvOp implements Op {
    /** Epsilon of weight standardisation (inside the square root), as in timm's StdConv2d. */
    static final double WS_EPS = 1e-5;

    /** Largest in·d (multiply-adds per output position) for which im2col runs as a one-hot convolution. */
    static final long ONE_HOT_LIMIT = 1024;

    final Layer.Conv2d layer;
    final Constants constants;
    final ParameterStore store;
    final int weight;
    final int bias;

    ConvOp(Layer.Conv2d layer, ParameterStore store, Constants constants) {
        this.layer = layer;
        this.store = store;
        this.constants = constants;
        this.weight = store.indexOf(layer.name() + ".weight");
        this.bias = layer.bias() ? store.indexOf(layer.name() + ".bias") : -1;
    }

    boolean weightTrainable() {
        return store.trainable(weight);
    }

    boolean biasTrainable() {
        return bias >= 0 && store.trainable(bias);
    }

    @Override
    public NDArray forward(NDArray x, Tape tape) {
        NDArray w = store.value(weight);
        NDArray[] standardized = layer.weightStandardized() ? standardize(w) : null;
        NDArray effective = standardized == null ? w : standardized[0];
        NDArray y = conv(x, effective, bias >= 0 ? store.value(bias) : null);
        if (!tape.recording() || !(weightTrainable() || biasTrainable())) return y;
        NDArray[] yz = tape.withLeaf(y);
        tape.add(new ConvTap(this, tape.slots, tape.copies, x, yz[1], standardized));
        return yz[0];
    }

    private NDArray conv(NDArray x, NDArray w, NDArray b) {
        int s = layer.stride();
        int p = layer.padding();
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b, new Shape(s, s), new Shape(p, p), new Shape(1, 1), 1)
                .singletonOrThrow();
    }

    /** Returns {standardised weight, per-channel std [out,1,1,1]}. */
    static NDArray[] standardize(NDArray w) {
        int[] axis = {1};
        NDArray rows = w.reshape(w.getShape().get(0), -1);
        NDArray centered = rows.sub(rows.mean(axis, true));
        NDArray std = centered.square().mean(axis, true).add(WS_EPS).sqrt();
        return new NDArray[] {centered.div(std).reshape(w.getShape()), std};
    }

    /**
     * Maps gradients w.r.t. the standardised weight ([..., out, d], d = in*k*k) to gradients w.r.t.
     * the raw weight: (g - mean(g) - ŵ·mean(g·ŵ)) / std per output channel. Linear in g.
     */
    NDArray standardizationBackward(NDArray g, NDArray[] standardized) {
        long d = (long) layer.in() * layer.kernel() * layer.kernel();
        NDArray wHat = standardized[0].reshape(layer.out(), d);
        NDArray std = standardized[1].reshape(layer.out(), 1);
        NDArray centered = g.sub(g.mean(new int[] {-1}, true));
        return centered.sub(wHat.mul(g.mul(wHat).mean(new int[] {-1}, true))).div(std);
    }

    /**
     * im2col of the input: [N, T, d] with T output positions and d = in*k*k; see {@link #kernelMajor}
     * for the order of d. DJL has no unfold op. Few input channels (a network's first layer): one
     * dense convolution with a fixed one-hot kernel, a single cheap op, in PyTorch weight order
     * (c, kh, kw). Otherwise: the padded input once in NHWC, then k*k strided slices [N, Ho, Wo, C]
     * stacked into [N, Ho, Wo, k*k, C], which is [N, T, d] in (kh, kw, c) order with no further
     * copy. Each slice then moves runs of C contiguous floats; stacking NCHW slices on a last axis
     * (the earlier layout, in weight order) moved single floats and was the step's largest op for
     * small-cnn. Position-major rows let the clipped sum use the unfolded input as a [S·T', d]
     * matrix without copying it.
     */
    NDArray unfold(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0);
        int k = layer.kernel();
        int st = layer.stride();
        int p = layer.padding();
        if (k == 1 && st == 1 && p == 0) return x.reshape(n, layer.in(), -1).transpose(0, 2, 1);
        long d = (long) layer.in() * k * k;
        if (oneHotUnfold()) {
            NDArray cols = ai.djl.nn.convolutional.Conv2d.conv2d(
                            x,
                            constants.oneHotKernel(layer.in(), k),
                            null,
                            new Shape(st, st),
                            new Shape(p, p),
                            new Shape(1, 1),
                            1)
                    .singletonOrThrow();
            return cols.reshape(n, d, -1).transpose(0, 2, 1);
        }
        NDArray padded = p == 0 ? x : x.pad(new Shape(p, p, p, p), 0);
        long hp = s.get(2) + 2L * p;
        long wp = s.get(3) + 2L * p;
        // transpose is a view; the reshape to [N, -1] cannot be one, so it makes a contiguous NHWC copy.
        NDArray nhwc = padded.transpose(0, 2, 3, 1).reshape(n, -1).reshape(n, hp, wp, layer.in());
        long ho = (hp - k) / st + 1;
        long wo = (wp - k) / st + 1;
        ai.djl.ndarray.NDList slices = new ai.djl.ndarray.NDList(k * k);
        for (int kh = 0; kh < k; kh++) {
            for (int kw = 0; kw < k; kw++) {
                slices.add(nhwc.get(":, " + kh + ":" + (kh + st * (ho - 1) + 1) + ":" + st + ", " + kw + ":"
                        + (kw + st * (wo - 1) + 1) + ":" + st + ", :"));
            }
        }
        return ai.djl.ndarray.NDArrays.stack(slices, 3).reshape(n, ho * wo, d);
    }

    /**
     * Whether {@link #unfold}'s d axis is in (kh, kw, c) order rather than PyTorch's weight order
     * (c, kh, kw): the slice path for layers with many input channels. (For 1x1 kernels the two agree.)
     */
    boolean kernelMajor() {
        return layer.kernel() > 1 && !oneHotUnfold();
    }

    private boolean oneHotUnfold() {
        long d = (long) layer.in() * layer.kernel() * layer.kernel();
        return layer.in() * d <= ONE_HOT_LIMIT;
    }

    /** Reorders the last axis of [..., p, d] from {@link #unfold}'s order to the weight's (c, kh, kw). */
    NDArray toWeightOrder(NDArray m) {
        if (!kernelMajor()) return m;
        Shape s = m.getShape();
        int kk = layer.kernel() * layer.kernel();
        long[] split = new long[s.dimension() + 1];
        for (int i = 0; i < s.dimension() - 1; i++) split[i] = s.get(i);
        split[s.dimension() - 1] = kk;
        split[s.dimension()] = layer.in();
        int[] axes = new int[split.length];
        for (int i = 0; i < axes.length; i++) axes[i] = i;
        axes[axes.length - 2] = axes.length - 1;
        axes[axes.length - 1] = axes.length - 2;
        return m.reshape(new Shape(split)).transpose(axes).reshape(s);
    }
}
