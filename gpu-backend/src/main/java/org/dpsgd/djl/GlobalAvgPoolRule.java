package org.dpsgd.djl;

import org.dpsgd.model.Layer;

/** Global average pooling [N, C, H, W] → [N, C]: parameter-free. */
final class GlobalAvgPoolRule implements LayerRule<Layer.GlobalAvgPool> {
    @Override
    public Class<Layer.GlobalAvgPool> layerType() {
        return Layer.GlobalAvgPool.class;
    }

    @Override
    public Op lower(Layer.GlobalAvgPool layer, Lowering lowering) {
        // The engine's mean takes one axis at a time: flatten H and W first.
        return (x, t) -> x.reshape(x.getShape().get(0), x.getShape().get(1), -1).mean(new int[] {2});
    }
}
