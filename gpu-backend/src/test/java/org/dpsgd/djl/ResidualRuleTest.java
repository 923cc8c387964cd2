package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ResidualRule}: main(x) + shortcut(x) against a direct computation, and the taps recorded
 * inside both branches (identity and projection shortcuts, a residual nested in a residual) under
 * every forced norm path, against the batch-size-1 loop in float64.
 */
class ResidualRuleTest {
    @Test
    void forwardIsMainPlusIdentity() {
        Shape in = new Shape(2, 3, 3);
        Layer block = new Layer.Residual("r", List.of(new Layer.Activation(Layer.ActivationKind.TANH)), List.of());
        Network net = new Network("res", in, in.size(), List.of(block, new Layer.Flatten()));
        DeviceBatch b = TestSupport.batch(net, 2, 1, 3, 1.0);
        double[] want = new double[b.inputs().length];
        for (int i = 0; i < want.length; i++) want[i] = b.inputs()[i] + Math.tanh(b.inputs()[i]);
        assertArrayEquals(want, RuleHarness.forward(net, b), 1e-15);
    }

    /** A projection block (strided conv + GroupNorm main, 1x1 strided conv + GroupNorm shortcut) around an identity block. */
    static Network blocks() {
        Layer inner = new Layer.Residual(
                "inner",
                List.of(
                        new Layer.Conv2d("inner.conv", 4, 4, 3, 1, 1, false, false),
                        new Layer.GroupNorm("inner.gn", 4, 2, 1e-5)),
                List.of());
        Layer outer = new Layer.Residual(
                "outer",
                List.of(
                        new Layer.Conv2d("outer.conv", 2, 4, 3, 2, 1, false, false),
                        new Layer.GroupNorm("outer.gn", 4, 2, 1e-5),
                        new Layer.Activation(Layer.ActivationKind.RELU),
                        inner),
                List.of(
                        new Layer.Conv2d("outer.down", 2, 4, 1, 2, 0, false, false),
                        new Layer.GroupNorm("outer.down_gn", 4, 1, 1e-5)));
        return new Network(
                "residual",
                new Shape(2, 6, 6),
                3,
                List.of(
                        outer,
                        new Layer.Activation(Layer.ActivationKind.RELU),
                        new Layer.GlobalAvgPool(),
                        new Layer.Linear("head", 4, 3, true)));
    }

    @ParameterizedTest
    @EnumSource(RuleOptions.Norm.class)
    void tapsInsideBothBranches(RuleOptions.Norm norm) {
        for (int k = 1; k <= 2; k++) {
            RuleHarness.assertMatchesBatchSizeOneLoop(new RuleHarness.Check(
                    blocks(),
                    RuleOptions.DEFAULT.with(norm),
                    k,
                    List.of(),
                    k == 1 ? RuleHarness.Groups.PER_LAYER : RuleHarness.Groups.FLAT,
                    31L * k + norm.ordinal()));
        }
    }
}
