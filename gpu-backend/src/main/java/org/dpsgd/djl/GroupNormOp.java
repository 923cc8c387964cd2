package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.dpsgd.model.Layer;

/**
 * GroupNorm as one native layer-norm over [N, G, C/G·H·W] (3x faster than composing mean and
 * variance by hand), then the per-channel affine. Statistics are per sample: no batch mixing.
 */
final class GroupNormOp implements Op {
    final Layer.GroupNorm layer;
    final ParameterStore store;
    final Constants constants;
    final int weight;
    final int bias;

    GroupNormOp(Layer.GroupNorm layer, ParameterStore store, Constants constants) {
        this.layer = layer;
        this.store = store;
        this.constants = constants;
        this.weight = store.indexOf(layer.name() + ".weight");
        this.bias = store.indexOf(layer.name() + ".bias");
    }

    @Override
    public NDArray forward(NDArray x, Tape tape) {
        Shape s = x.getShape();
        long n = s.get(0);
        long perGroup = s.size() / n / layer.groups();
        NDArray normalized = ai.djl.nn.norm.LayerNorm.layerNorm(
                        x.reshape(n, layer.groups(), perGroup),
                        new Shape(perGroup),
                        constants.ones(perGroup),
                        constants.zeros(perGroup),
                        (float) layer.eps())
                .singletonOrThrow()
                .reshape(s);
        NDArray gamma = store.value(weight).reshape(1, layer.channels(), 1, 1);
        NDArray beta = store.value(bias).reshape(1, layer.channels(), 1, 1);
        NDArray y = normalized.mul(gamma).add(beta);
        boolean w = store.trainable(weight);
        boolean b = store.trainable(bias);
        if (!tape.recording() || !(w || b)) return y;
        NDArray[] yz = tape.withLeaf(y);
        tape.add(new GroupNormTap(this, tape.slots, tape.copies, normalized, yz[1]));
        return yz[0];
    }
}
