package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link MaxPool2dRule}: windows, strides and padding against a direct maximum, and per-sample gradients through it. */
class MaxPool2dRuleTest {
    @ParameterizedTest(name = "k={0} s={1} p={2}")
    @CsvSource({"2,2,0", "3,2,1", "3,1,1", "2,1,0"})
    void forwardMatchesDirectMaximum(int k, int s, int p) {
        Shape in = new Shape(2, 5, 5);
        Layer.MaxPool2d pool = new Layer.MaxPool2d(k, s, p);
        Shape outShape = pool.outputShape(in);
        Network net = new Network("pool", in, outShape.size(), List.of(pool, new Layer.Flatten()));
        DeviceBatch b = TestSupport.batch(net, 2, 1, 31L * k + s + p, 1.0);
        int ho = outShape.height();
        int wo = outShape.width();
        double[] want = new double[2 * outShape.size()];
        int o = 0;
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 2; c++) {
                for (int y = 0; y < ho; y++) {
                    for (int x = 0; x < wo; x++) {
                        double m = Double.NEGATIVE_INFINITY; // padding never wins (PyTorch pads max-pool with -inf)
                        for (int dy = 0; dy < k; dy++) {
                            for (int dx = 0; dx < k; dx++) {
                                int iy = y * s - p + dy;
                                int ix = x * s - p + dx;
                                if (iy < 0 || ix < 0 || iy >= 5 || ix >= 5) continue;
                                m = Math.max(m, b.inputs()[((n * 2 + c) * 5 + iy) * 5 + ix]);
                            }
                        }
                        want[o++] = m;
                    }
                }
            }
        }
        assertArrayEquals(want, RuleHarness.forward(net, b), 0.0);
    }

    @ParameterizedTest(name = "k={0} s={1} p={2}")
    @CsvSource({"2,2,0", "3,2,1"})
    void perSampleGradientsFlowThrough(int k, int s, int p) {
        Layer.MaxPool2d pool = new Layer.MaxPool2d(k, s, p);
        Shape mid = pool.outputShape(new Shape(3, 6, 6));
        Network net = new Network(
                "conv-pool-linear",
                new Shape(2, 6, 6),
                3,
                List.of(
                        new Layer.Conv2d("conv", 2, 3, 3, 1, 1, true, false),
                        pool,
                        new Layer.Flatten(),
                        new Layer.Linear("head", mid.size(), 3, true)));
        RuleHarness.assertGradientsFlowThrough(net, 100L * k + s);
    }
}
