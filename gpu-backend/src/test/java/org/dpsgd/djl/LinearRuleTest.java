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
 * {@link LinearRule}: every norm (mixed and ghost: the K = 1 outer-product norm and the K > 1
 * Gram norm; explicit: the formed gradient) × K = 1, 2, 3 × with and without bias, as a hidden layer
 * fed a [N, D, 1, 1] input (flattened by the op) and as the output layer; padding, frozen tensors and
 * per-group clipping drawn from a seeded generator; each against the batch-size-1 loop in float64.
 */
class LinearRuleTest {
    /** A hidden linear layer (input 6x1x1, not flattened first), tanh, and a linear head to 3 classes. */
    static Network hidden(boolean bias) {
        return new Network(
                "hidden-linear",
                new Shape(6, 1, 1),
                3,
                List.of(
                        new Layer.Linear("fc", 6, 5, bias),
                        new Layer.Activation(Layer.ActivationKind.TANH),
                        new Layer.Linear("head", 5, 3, true)));
    }

    /** The output layer alone, after a flatten of a 2x2x2 input. */
    static Network output(boolean bias) {
        return new Network(
                "output-linear",
                new Shape(2, 2, 2),
                4,
                List.of(new Layer.Flatten(), new Layer.Linear("fc", 8, 4, bias)));
    }

    static final List<List<String>> FROZEN =
            List.of(List.of(), List.of("head"), List.of("fc.bias"), List.of("fc.weight"));

    static Stream<Arguments> paths() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(77);
        for (boolean hiddenLayer : new boolean[] {true, false}) {
            for (boolean bias : new boolean[] {true, false}) {
                Network net = hiddenLayer ? hidden(bias) : output(bias);
                for (RuleOptions.Norm n : RuleOptions.Norm.values()) {
                    for (int k = 1; k <= 3; k++) {
                        List<String> frozen = FROZEN.get(r.nextInt(FROZEN.size()));
                        // Keep the rule under test trainable: without a bias only fc.weight is left of it.
                        if ((!bias && frozen.contains("fc.bias")) || (!hiddenLayer && frozen.contains("head")))
                            frozen = List.of();
                        if (!bias && frozen.contains("fc.weight")) frozen = List.of();
                        RuleHarness.Groups groups =
                                RuleHarness.Groups.values()[r.nextInt(RuleHarness.Groups.values().length)];
                        out.add(Arguments.of(net.name(), bias, n, k, frozen, groups, net, r.nextLong()));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} bias={1} norm={2} K={3} frozen={4} {5}")
    @MethodSource("paths")
    void equalsTheBatchSizeOneLoop(
            String label,
            boolean bias,
            RuleOptions.Norm norm,
            int copies,
            List<String> frozen,
            RuleHarness.Groups groups,
            Network net,
            long seed) {
        RuleHarness.assertMatchesBatchSizeOneLoop(
                new RuleHarness.Check(net, RuleOptions.DEFAULT.with(norm), copies, frozen, groups, seed));
    }
}
