package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.dpsgd.model.Layer;
import org.junit.jupiter.api.Test;

/** The rule table: exactly one rule per layer type of the IR. */
class LayerRulesTest {
    @Test
    void everyLayerTypeHasARule() {
        Set<Class<?>> permitted = Set.of(Layer.class.getPermittedSubclasses());
        assertEquals(permitted, Set.copyOf(LayerRules.STANDARD.types()));
    }

    @Test
    void aSecondRuleForATypeIsRefused() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new LayerRules(List.of(new FlattenRule(), new FlattenRule())));
        assertTrue(e.getMessage().contains("Flatten"), e.getMessage());
    }

    @Test
    void aLayerWithoutARuleIsNamed() {
        LayerRules onlyFlatten = new LayerRules(List.of(new FlattenRule()));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> onlyFlatten.lower(
                        new Layer.GlobalAvgPool(), new Lowering(null, null, RuleOptions.DEFAULT, onlyFlatten)));
        assertTrue(e.getMessage().contains("GlobalAvgPool"), e.getMessage());
    }
}
