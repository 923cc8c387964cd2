package org.dpsgd.djl;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dpsgd.model.Layer;

/** The table of per-layer rules, keyed by the {@link Layer} record type: the one place a layer type is registered. */
final class LayerRules {
    /** Every layer type of the {@code Network} IR (checked against {@code Layer}'s permitted subtypes by a test). */
    static final LayerRules STANDARD = new LayerRules(List.of(
            new Conv2dRule(),
            new LinearRule(),
            new GroupNormRule(),
            new ActivationRule(),
            new MaxPool2dRule(),
            new GlobalAvgPoolRule(),
            new FlattenRule(),
            new ResidualRule()));

    private final Map<Class<? extends Layer>, LayerRule<?>> byType = new LinkedHashMap<>();

    LayerRules(List<LayerRule<?>> rules) {
        for (LayerRule<?> r : rules) {
            if (byType.put(r.layerType(), r) != null) {
                throw new IllegalArgumentException(
                        "two rules for layer type " + r.layerType().getSimpleName());
            }
        }
    }

    /** The layer types that have a rule. */
    Set<Class<? extends Layer>> types() {
        return byType.keySet();
    }

    /** Lowers {@code layer} with its type's rule. */
    Op lower(Layer layer, Lowering lowering) {
        LayerRule<?> rule = byType.get(layer.getClass());
        if (rule == null) {
            throw new IllegalArgumentException("the DJL backend has no rule for layer " + layer
                    + "; add a LayerRule for " + layer.getClass().getSimpleName() + " to LayerRules");
        }
        return lowerWith(rule, layer, lowering);
    }

    private static <L extends Layer> Op lowerWith(LayerRule<L> rule, Layer layer, Lowering lowering) {
        return rule.lower(rule.layerType().cast(layer), lowering);
    }
}
