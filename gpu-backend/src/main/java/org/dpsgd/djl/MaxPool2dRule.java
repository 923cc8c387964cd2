package org.dpsgd.djl;

import ai.djl.ndarray.types.Shape;
import org.dpsgd.model.Layer;

/** 2-D max pooling: parameter-free, per sample (no mixing across the batch). */
final class MaxPool2dRule implements LayerRule<Layer.MaxPool2d> {
    @Override
    public Class<Layer.MaxPool2d> layerType() {
        return Layer.MaxPool2d.class;
    }

    @Override
    public Op lower(Layer.MaxPool2d p, Lowering lowering) {
        Shape k = new Shape(p.kernel(), p.kernel());
        Shape s = new Shape(p.stride(), p.stride());
        Shape pad = new Shape(p.padding(), p.padding());
        return (x, t) -> ai.djl.nn.pooling.Pool.maxPool2d(x, k, s, pad, false);
    }
}
