package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.dpsgd.model.Layer;

/**
 * 2-D max pooling: parameter-free, per sample (no mixing across the batch). On the CPU in float32 and
 * float64 through {@link ChannelsLastMaxPool} (the same values and input gradients bit for bit, a
 * fraction of the NCHW kernel's time), elsewhere DJL's NCHW call.
 */
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
        Constants constants = lowering.constants();
        return (x, t) -> {
            NDArray y = constants.maxPool().apply(x, p.kernel(), p.stride(), p.padding());
            return y != null ? y : ai.djl.nn.pooling.Pool.maxPool2d(x, k, s, pad, false);
        };
    }
}
