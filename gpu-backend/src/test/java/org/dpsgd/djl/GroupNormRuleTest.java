package org.dpsgd.djl;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GroupNormRule} (one path: the affine's per-sample gradients formed): 1, 2 and 4 groups ×
 * K = 1, 2 × weight and bias trainable, weight only, bias only; padding and per-group clipping
 * drawn from a seeded generator; each against the batch-size-1 loop in float64. (The forward pass
 * against a direct computation: {@link GroupNormTest}.)
 */
class GroupNormRuleTest {
    /** GroupNorm on a 4x3x3 input, then tanh, flatten and a linear head to 3 classes. */
    static Network net(int groups) {
        return new Network(
                "gn" + groups,
                new Shape(4, 3, 3),
                3,
                List.of(
                        new Layer.GroupNorm("gn", 4, groups, 1e-5),
                        new Layer.Activation(Layer.ActivationKind.TANH),
                        new Layer.Flatten(),
                        new Layer.Linear("head", 36, 3, true)));
    }

    static final List<List<String>> FROZEN =
            List.of(List.of(), List.of("head"), List.of("gn.weight"), List.of("gn.bias"));

    static Stream<Arguments> paths() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(4242);
        for (int groups : new int[] {1, 2, 4}) {
            for (List<String> frozen : FROZEN) {
                for (int k = 1; k <= 2; k++) {
                    RuleHarness.Groups g = RuleHarness.Groups.values()[r.nextInt(RuleHarness.Groups.values().length)];
                    out.add(Arguments.of(groups, frozen, k, g, r.nextLong()));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "G={0} frozen={1} K={2} {3}")
    @MethodSource("paths")
    void equalsTheBatchSizeOneLoop(int groups, List<String> frozen, int copies, RuleHarness.Groups g, long seed) {
        RuleHarness.assertMatchesBatchSizeOneLoop(
                new RuleHarness.Check(net(groups), RuleOptions.DEFAULT, copies, frozen, g, seed));
    }
}
