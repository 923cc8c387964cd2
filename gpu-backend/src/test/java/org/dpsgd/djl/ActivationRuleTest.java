package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link ActivationRule}: each kind against Math on a seeded input, and per-sample gradients through it. */
class ActivationRuleTest {
    @ParameterizedTest
    @EnumSource(Layer.ActivationKind.class)
    void forwardMatchesMath(Layer.ActivationKind kind) {
        Shape in = new Shape(2, 3, 3);
        Network net = new Network("act", in, in.size(), List.of(new Layer.Activation(kind), new Layer.Flatten()));
        DeviceBatch b = TestSupport.batch(net, 3, 1, kind.ordinal() + 1, 2.0);
        double[] want = new double[b.inputs().length];
        for (int i = 0; i < want.length; i++) {
            double x = b.inputs()[i];
            want[i] = switch (kind) {
                case RELU -> Math.max(0, x);
                case TANH -> Math.tanh(x);
            };
        }
        assertArrayEquals(want, RuleHarness.forward(net, b), 1e-15);
    }

    @ParameterizedTest
    @EnumSource(Layer.ActivationKind.class)
    void perSampleGradientsFlowThrough(Layer.ActivationKind kind) {
        Network net = new Network(
                "conv-act-linear",
                new Shape(2, 4, 4),
                3,
                List.of(
                        new Layer.Conv2d("conv", 2, 3, 3, 1, 1, true, false),
                        new Layer.Activation(kind),
                        new Layer.Flatten(),
                        new Layer.Linear("head", 48, 3, true)));
        RuleHarness.assertGradientsFlowThrough(net, 11 + kind.ordinal());
    }
}
