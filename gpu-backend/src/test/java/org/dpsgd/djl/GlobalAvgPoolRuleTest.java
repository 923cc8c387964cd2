package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/** {@link GlobalAvgPoolRule}: the per-channel mean against a direct sum, and per-sample gradients through it. */
class GlobalAvgPoolRuleTest {
    @Test
    void forwardIsThePerChannelMean() {
        Shape in = new Shape(3, 4, 5);
        Network net = new Network("gap", in, 3, List.of(new Layer.GlobalAvgPool(), new Layer.Flatten()));
        DeviceBatch b = TestSupport.batch(net, 2, 1, 5, 1.0);
        double[] want = new double[6];
        for (int i = 0; i < b.inputs().length; i++) want[i / 20] += b.inputs()[i] / 20.0;
        assertArrayEquals(want, RuleHarness.forward(net, b), 1e-15);
    }

    @Test
    void perSampleGradientsFlowThrough() {
        Network net = new Network(
                "conv-gap-linear",
                new Shape(2, 5, 5),
                3,
                List.of(
                        new Layer.Conv2d("conv", 2, 4, 3, 1, 1, true, false),
                        new Layer.Activation(Layer.ActivationKind.RELU),
                        new Layer.GlobalAvgPool(),
                        new Layer.Linear("head", 4, 3, true)));
        RuleHarness.assertGradientsFlowThrough(net, 23);
    }
}
