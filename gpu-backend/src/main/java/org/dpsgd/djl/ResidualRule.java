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
            NDArray m = Op.chain(main, x, t);
            NDArray s = Op.chain(shortcut, x, t);
            NDArray y = m.add(s);
            // The branches' outputs are not needed by add's backward: close their handles now (Op.chain).
            if (m != x) m.close();
            if (s != x) s.close();
            return y;
        };
    }
}
