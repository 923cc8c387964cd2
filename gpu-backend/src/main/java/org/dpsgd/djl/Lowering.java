package org.dpsgd.djl;

import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Layer;

/**
 * What a {@link LayerRule} lowers against: the model's parameters and constants, the path choices,
 * and the rule table itself (so a container layer such as a residual block lowers its children).
 */
record Lowering(ParameterStore store, Constants constants, RuleOptions options, LayerRules rules) {
    /** Lowers {@code layer} with the rule registered for its type. */
    Op lower(Layer layer) {
        return rules.lower(layer, this);
    }

    /** Lowers a sequence of layers, in order. */
    List<Op> lower(List<Layer> layers) {
        List<Op> out = new ArrayList<>(layers.size());
        for (Layer l : layers) out.add(lower(l));
        return out;
    }
}
