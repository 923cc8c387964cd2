package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;

/** The Network IR lowered to functional NDArray ops over the model's parameter store. */
final class LoweredNetwork {
    private final List<Op> ops;

    LoweredNetwork(Network network, ParameterStore store, Constants constants) {
        this.ops = lower(network.layers(), store, constants);
    }

    private static List<Op> lower(List<Layer> layers, ParameterStore store, Constants constants) {
        List<Op> out = new ArrayList<>();
        for (Layer l : layers) {
            out.add(lowerOne(l, store, constants));
        }
        return out;
    }

    private static Op lowerOne(Layer l, ParameterStore store, Constants constants) {
        if (l instanceof Layer.Conv2d c) return new ConvOp(c, store, constants);
        if (l instanceof Layer.GroupNorm g) return new GroupNormOp(g, store, constants);
        if (l instanceof Layer.Linear f) return new LinearOp(f, store);
        if (l instanceof Layer.Activation a) return SimpleOps.activation(a.kind());
        if (l instanceof Layer.MaxPool2d p) return SimpleOps.maxPool(p);
        if (l instanceof Layer.GlobalAvgPool) return SimpleOps.globalAvgPool();
        if (l instanceof Layer.Flatten) return SimpleOps.flatten();
        if (l instanceof Layer.Residual r) {
            return SimpleOps.residual(lower(r.main(), store, constants), lower(r.shortcut(), store, constants));
        }
        throw new IllegalArgumentException("the DJL backend cannot lower layer " + l);
    }

    /** Logits [N, classes] for inputs [N, C, H, W]. */
    NDArray forward(NDArray x, Tape tape) {
        NDArray y = x;
        for (Op o : ops) y = o.forward(y, tape);
        return y.reshape(y.getShape().get(0), -1);
    }
}
