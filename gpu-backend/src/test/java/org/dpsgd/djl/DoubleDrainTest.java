package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code drainGradientSum(double[])} hands over the float64 accumulator unrounded: in float64 mode
 * two strategies' double sums agree far below float32's resolution (which the float drain cannot
 * show: its rounding alone is ~6e-8 relative), the double sum carries bits a float cannot hold,
 * rounding it gives exactly the float drain, and it zeroes the accumulator as the float drain does.
 */
class DoubleDrainTest {
    @ParameterizedTest
    @ValueSource(strings = {"small-cnn", "fmnist-cnn"})
    void float64SumsAreHandedOverUnrounded(String model) {
        Network net = ModelZoo.build(ModelSpec.of(model), Shape.parse("1x28x28"), 10);
        int n = (int) net.parameterCount();
        DeviceBatch b = TestSupport.batch(net, 6, 1, 3, 1.0, 2);
        try (DjlTrainableModel reference = TestSupport.model(net, "microbatch", "float64", List.of());
                DjlTrainableModel fast = TestSupport.model(net, "bookkeeping", "float64", List.of())) {
            reference.accumulateClipped(b, 0.3);
            fast.accumulateClipped(b, 0.3);
            double[] want = new double[n];
            double[] got = new double[n];
            reference.drainGradientSum(want);
            fast.drainGradientSum(got);
            double num = 0, den = 0;
            int wider = 0;
            for (int i = 0; i < n; i++) {
                num += (got[i] - want[i]) * (got[i] - want[i]);
                den += want[i] * want[i];
                if ((double) (float) want[i] != want[i]) wider++;
            }
            assertTrue(den > 0, "the clipped sum is zero");
            double err = Math.sqrt(num / den);
            assertTrue(err < 1e-11, "float64 strategies disagree by " + err + " relative");
            assertTrue(wider > n / 2, "only " + wider + " of " + n + " sums have more than float32 precision");

            // The same call again: rounding the double drain gives the float drain bit for bit.
            reference.accumulateClipped(b, 0.3);
            double[] again = new double[n];
            reference.drainGradientSum(again);
            reference.accumulateClipped(b, 0.3);
            float[] asFloat = new float[n];
            reference.drainGradientSum(asFloat);
            for (int i = 0; i < n; i++) assertEquals((float) again[i], asFloat[i], "parameter " + i);

            // Drained means zeroed.
            double[] empty = new double[n];
            reference.drainGradientSum(empty);
            for (double v : empty) assertEquals(0.0, v);
        }
    }
}
