package org.dpsgd.djl;

import org.dpsgd.model.Layer;

/** Flatten [N, ...] → [N, D]: parameter-free. */
final class FlattenRule implements LayerRule<Layer.Flatten> {
    @Override
    public Class<Layer.Flatten> layerType() {
        return Layer.Flatten.class;
    }

    @Override
    public Op lower(Layer.Flatten layer, Lowering lowering) {
        return (x, t) -> x.reshape(x.getShape().get(0), -1);
    }
}
