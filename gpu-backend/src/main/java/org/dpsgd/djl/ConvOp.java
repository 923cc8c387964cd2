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

    @Override public NDArray forward(NDArray x, Tape tape) {
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
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b, new Shape(s, s), new Shape(p, p), new Shape(1, 1), 1).singletonOrThrow();
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
     * im2col of the input: [N, T, d] with T output positions and d = in*k*k in PyTorch weight order.
     * DJL has no unfold op: k*k strided slices of the padded input, each viewed as [N, Ho, Wo, C] and
     * stacked on a last axis, give [N, Ho, Wo, C, k*k], which is [N, T, d] with no further copy
     * (about 10x faster on CPU than a grouped convolution with a one-hot kernel). Position-major
     * rows let the clipped sum use the unfolded input as a [S·T', d] matrix without copying it.
     */
    NDArray unfold(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0);
        int k = layer.kernel();
        int st = layer.stride();
        int p = layer.padding();
        if (k == 1 && st == 1 && p == 0) return x.reshape(n, layer.in(), -1).transpose(0, 2, 1);
        long d = (long) layer.in() * k * k;
        if (layer.in() * d <= ONE_HOT_LIMIT) {
            // Few input channels (a network's first layer): one dense convolution with a fixed
            // one-hot kernel is a single cheap op instead of k*k slices.
            NDArray cols = ai.djl.nn.convolutional.Conv2d.conv2d(x, constants.oneHotKernel(layer.in(), k), null,
                    new Shape(st, st), new Shape(p, p), new Shape(1, 1), 1).singletonOrThrow();
            return cols.reshape(n, d, -1).transpose(0, 2, 1);
        }
        NDArray padded = p == 0 ? x : x.pad(new Shape(p, p, p, p), 0);
        long ho = (s.get(2) + 2L * p - k) / st + 1;
        long wo = (s.get(3) + 2L * p - k) / st + 1;
        ai.djl.ndarray.NDList slices = new ai.djl.ndarray.NDList(k * k);
        for (int kh = 0; kh < k; kh++) {
            for (int kw = 0; kw < k; kw++) {
                slices.add(padded.get(":, :, " + kh + ":" + (kh + st * (ho - 1) + 1) + ":" + st + ", "
                        + kw + ":" + (kw + st * (wo - 1) + 1) + ":" + st).transpose(0, 2, 3, 1));
            }
        }
        return ai.djl.ndarray.NDArrays.stack(slices, 4).reshape(n, ho * wo, (long) layer.in() * k * k);
    }
}
