package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import org.dpsgd.model.Layer;

/** Fully connected layer, weight [out, in] (PyTorch layout); flattens a [N, D, 1, 1] input. */
final class LinearOp implements Op {
    final Layer.Linear layer;
    final ParameterStore store;
    final int weight;
    final int bias;

    LinearOp(Layer.Linear layer, ParameterStore store) {
        this.layer = layer;
        this.store = store;
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
        NDArray flat =
                x.getShape().dimension() == 2 ? x : x.reshape(x.getShape().get(0), -1);
        NDArray y = bias >= 0
                ? ai.djl.nn.core.Linear.linear(flat, store.value(weight), store.value(bias))
                        .singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(flat, store.value(weight)).singletonOrThrow();
        if (!tape.recording() || !(weightTrainable() || biasTrainable())) return y;
        NDArray[] yz = tape.withLeaf(y);
        tape.add(new LinearTap(this, tape.slots, tape.copies, flat, yz[1]));
        return yz[0];
    }
}
