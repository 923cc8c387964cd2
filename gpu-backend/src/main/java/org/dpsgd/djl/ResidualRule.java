package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.dpsgd.model.Layer;

/**
 * y = main(x) + shortcut(x), the shortcut being the identity when empty. Owns no parameters: its
 * children are lowered by their own rules and record their own taps.
 */
final class ResidualRule implements LayerRule<Layer.Residual> {
    @Override
    public Class<Layer.Residual> layerType() {
        return Layer.Residual.class;
    }

    @Override
    public Op lower(Layer.Residual layer, Lowering lowering) {
        List<Op> main = lowering.lower(layer.main());
        List<Op> shortcut = lowering.lower(layer.shortcut());
        return (x, t) -> {
            NDArray m = x;
            for (Op o : main) m = o.forward(m, t);
            NDArray s = x;
            for (Op o : shortcut) s = o.forward(s, t);
            return m.add(s);
        };
    }
}
