package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/** {@link FlattenRule}: PyTorch's row-major order (the input unchanged), and per-sample gradients through it. */
class FlattenRuleTest {
    @Test
    void forwardKeepsRowMajorOrder() {
        Shape in = new Shape(2, 3, 4);
        Network net = new Network("flatten", in, in.size(), List.of(new Layer.Flatten()));
        DeviceBatch b = TestSupport.batch(net, 3, 1, 9, 1.0);
        double[] want = new double[b.inputs().length];
        for (int i = 0; i < want.length; i++) want[i] = b.inputs()[i];
        assertArrayEquals(want, RuleHarness.forward(net, b), 0.0);
    }

    @Test
    void perSampleGradientsFlowThrough() {
        Network net = new Network(
                "conv-flatten-linear",
                new Shape(1, 5, 5),
                3,
                List.of(
                        new Layer.Conv2d("conv", 1, 2, 3, 2, 0, true, false),
                        new Layer.Flatten(),
                        new Layer.Linear("head", 8, 3, false)));
        RuleHarness.assertGradientsFlowThrough(net, 29);
    }
}
