package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The parameter store's host hand-offs: parameters written into the tensors' own memory read back
 * bit for bit (signed zeros, subnormals, extremes included); the non-private sum's first add after a
 * drain (a cast, no zero fill) and later adds give exactly g, 2g, ...; the float drain is the double
 * drain rounded by Java's (float) cast, bit for bit; a drain empties the sum; clipped and unclipped
 * sums added in either order without a drain between them give both.
 */
class ParameterStoreTest {
    @ParameterizedTest
    @ValueSource(strings = {"float32", "float64"})
    void writtenParametersReadBackBitForBit(String precision) {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x12x12"), 10);
        int n = (int) net.parameterCount();
        float[] p = new float[n];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < n; i++) p[i] = (float) (TestSupport.gaussian(r) * Math.pow(2, r.nextInt(-140, 120)));
        p[0] = -0f;
        p[1] = Float.MIN_VALUE;
        p[2] = Float.MAX_VALUE;
        p[3] = -Float.MIN_NORMAL;
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", precision, List.of())) {
            m.writeParameters(p);
            float[] back = new float[n];
            m.readParameters(back);
            for (int i = 0; i < n; i++)
                assertEquals(Float.floatToRawIntBits(p[i]), Float.floatToRawIntBits(back[i]), "parameter " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"float32", "float64"})
    void unclippedSumsAddExactlyAndDrainEmpties(String precision) {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x12x12"), 10);
        int n = (int) net.parameterCount();
        DeviceBatch b = TestSupport.batch(net, 6, 1, 9, 1.0, 4);
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", precision, List.of("conv1.bias"))) {
            double[] once = new double[n];
            m.accumulateUnclipped(b);
            m.drainGradientSum(once);
            m.accumulateUnclipped(b);
            m.accumulateUnclipped(b);
            double[] twice = new double[n];
            m.drainGradientSum(twice);
            m.accumulateUnclipped(b);
            float[] rounded = new float[n];
            m.drainGradientSum(rounded);
            double[] empty = new double[n];
            m.drainGradientSum(empty);
            int nonZero = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(2 * once[i], twice[i], "parameter " + i + ": g + g");
                assertEquals((float) once[i], rounded[i], "parameter " + i + ": float drain");
                assertEquals(0.0, empty[i], "parameter " + i + " after a drain");
                if (once[i] != 0) nonZero++;
            }
            assertEquals(true, nonZero > n / 2, "only " + nonZero + " of " + n + " gradient entries are non-zero");
        }
    }

    /** A clipped sum added after a kept (not yet widened) unclipped one, and the other way round, adds both. */
    @ParameterizedTest
    @ValueSource(strings = {"float32", "float64"})
    void clippedAndUnclippedSumsAddInEitherOrder(String precision) {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x12x12"), 10);
        int n = (int) net.parameterCount();
        DeviceBatch b = TestSupport.batch(net, 5, 1, 11, 1.0, 1);
        try (DjlTrainableModel plain = TestSupport.model(net, "bookkeeping", precision, List.of());
                DjlTrainableModel mixed = TestSupport.model(net, "bookkeeping", precision, List.of())) {
            double[] unclipped = new double[n];
            double[] clipped = new double[n];
            plain.accumulateUnclipped(b);
            plain.drainGradientSum(unclipped);
            plain.accumulateClipped(b, 0.5);
            plain.drainGradientSum(clipped);
            double[] a = new double[n];
            double[] c = new double[n];
            mixed.accumulateUnclipped(b);
            mixed.accumulateClipped(b, 0.5);
            mixed.drainGradientSum(a);
            mixed.accumulateClipped(b, 0.5);
            mixed.accumulateUnclipped(b);
            mixed.drainGradientSum(c);
            for (int i = 0; i < n; i++) {
                // Up to float64 rounding: a rule may add its clipped sum in more than one term.
                double tol = 1e-12 * (Math.abs(unclipped[i]) + Math.abs(clipped[i]));
                assertEquals(unclipped[i] + clipped[i], a[i], tol, "parameter " + i + ": unclipped then clipped");
                assertEquals(clipped[i] + unclipped[i], c[i], tol, "parameter " + i + ": clipped then unclipped");
            }
        }
    }
}
