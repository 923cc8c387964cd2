package org.dpsgd.djl;

import org.dpsgd.model.Layer;

/** ReLU and tanh: parameter-free, so nothing is recorded for book-keeping. */
final class ActivationRule implements LayerRule<Layer.Activation> {
    @Override
    public Class<Layer.Activation> layerType() {
        return Layer.Activation.class;
    }

    @Override
    public Op lower(Layer.Activation layer, Lowering lowering) {
        return switch (layer.kind()) {
            case RELU -> (x, t) -> ai.djl.nn.Activation.relu(x);
            case TANH -> (x, t) -> x.tanh();
        };
    }
}
