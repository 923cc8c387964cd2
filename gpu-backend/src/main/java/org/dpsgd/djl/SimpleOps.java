package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.dpsgd.model.Layer;

/** Parameter-free layers. */
final class SimpleOps {
    private SimpleOps() {}

    static Op activation(Layer.ActivationKind kind) {
        return switch (kind) {
            case RELU -> (x, t) -> ai.djl.nn.Activation.relu(x);
            case TANH -> (x, t) -> x.tanh();
        };
    }

    static Op maxPool(Layer.MaxPool2d p) {
        Shape k = new Shape(p.kernel(), p.kernel());
        Shape s = new Shape(p.stride(), p.stride());
        Shape pad = new Shape(p.padding(), p.padding());
        return (x, t) -> ai.djl.nn.pooling.Pool.maxPool2d(x, k, s, pad, false);
    }

    static Op globalAvgPool() {
        // The engine's mean takes one axis at a time: flatten H and W first.
        return (x, t) -> x.reshape(x.getShape().get(0), x.getShape().get(1), -1).mean(new int[] {2});
    }

    static Op flatten() {
        return (x, t) -> x.reshape(x.getShape().get(0), -1);
    }

    /** y = main(x) + shortcut(x), the shortcut being the identity when empty. */
    static Op residual(List<Op> main, List<Op> shortcut) {
        return (x, t) -> {
            NDArray m = x;
            for (Op o : main) m = o.forward(m, t);
            NDArray s = x;
            for (Op o : shortcut) s = o.forward(s, t);
            return m.add(s);
        };
    }
}
