package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dpsgd.model.Layer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/**
 * {@code MIXED}'s per-layer ghost/formed choice ({@link Conv2dRule#ghostNorm}) on the shapes it was fitted on and on
 * the memory goal's model: resnet18-gn at 3x32x32, batch 64, forms layer1 (T' = 64: the ghost path measured ~3×
 * slower) and keeps layer2–4 ghost (layer2 formed measured ~8× slower); resnet50-gn at 3x224x224, batch 16 (issue 12
 * §3's memory goal) gets exactly Bu et al.'s memory rule on every conv, so its peak cannot grow from this rule. The
 * exactness of both paths is StrategyExactnessTest's and Conv2dRuleTest's.
 */
class GhostChoiceTest {
    /** One conv's geometry: T' (positions), p, d, and the choice. */
    record Conv(long positions, long p, long d) {}

    /** Every conv of {@code net} by name, with its output positions for one copy. */
    static Map<String, Conv> convs(Network net) {
        Map<String, Conv> out = new LinkedHashMap<>();
        walk(net.layers(), net.input(), out);
        return out;
    }

    private static Shape walk(List<Layer> layers, Shape x, Map<String, Conv> out) {
        for (Layer l : layers) {
            if (l instanceof Layer.Conv2d c) {
                Shape y = Network.outputShape(List.of(l), x);
                long d = (long) c.in() * c.kernel() * c.kernel();
                out.put(c.name(), new Conv((long) y.height() * y.width(), c.out(), d));
            } else if (l instanceof Layer.Residual r) {
                walk(r.main(), x, out);
                walk(r.shortcut(), x, out);
            }
            x = Network.outputShape(List.of(l), x);
        }
        return x;
    }

    private static boolean mixed(Conv c, long slots, int formedBytes) {
        return Conv2dRule.ghostNorm(RuleOptions.Norm.MIXED, slots, c.positions(), c.p(), c.d(), false, formedBytes);
    }

    @Test
    void resnet18AtCifarSizeFormsLayer1AndKeepsTheRestGhost() {
        Map<String, Conv> convs = convs(ModelZoo.build(ModelSpec.of("resnet18-gn"), Shape.parse("3x32x32"), 10));
        assertEquals(20, convs.size());
        List<String> formed = new ArrayList<>();
        for (var e : convs.entrySet()) if (!mixed(e.getValue(), 64, 4)) formed.add(e.getKey());
        assertEquals(List.of("conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.1.conv1", "layer1.1.conv2"), formed);
        // conv1 (7x7 stem, T' = 256) is formed by the memory rule already; layer1 by speed only.
        Conv layer1 = convs.get("layer1.0.conv1");
        assertTrue(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, layer1.positions(), layer1.p(), layer1.d(), false, 4));
        assertTrue(Conv2dRule.formedIsFaster(layer1.positions(), layer1.p(), layer1.d()));
        Conv layer2 = convs.get("layer2.0.conv2");
        assertFalse(Conv2dRule.formedIsFaster(layer2.positions(), layer2.p(), layer2.d()));
        // The speed rule leaves float64 models and forced paths alone.
        assertTrue(mixed(layer1, 64, 8));
        assertTrue(
                Conv2dRule.ghostNorm(RuleOptions.Norm.GHOST, 64, layer1.positions(), layer1.p(), layer1.d(), false, 4));
        // The byte cap: 64 slots of layer1's 64x576 gradient are 18.9 MB in float64; 86 slots 25.4 MB > 24 MB.
        assertFalse(mixed(layer1, 85, 4));
        assertTrue(mixed(layer1, 86, 4));
    }

    @Test
    void resnet50AtImagenetSizeKeepsTheMemoryRuleOnEveryConv() {
        Map<String, Conv> convs = convs(ModelZoo.build(ModelSpec.of("resnet50-gn"), Shape.parse("3x224x224"), 10));
        assertEquals(53, convs.size());
        int ghost = 0;
        for (var e : convs.entrySet()) {
            Conv c = e.getValue();
            boolean memory = Conv2dRule.useGhost(RuleOptions.Norm.MIXED, c.positions(), c.p(), c.d(), false, 4);
            assertEquals(memory, mixed(c, 16, 4), e.getKey());
            if (memory) ghost++;
        }
        assertTrue(ghost > 0, "no ghost layer: the check says nothing");
    }
}
