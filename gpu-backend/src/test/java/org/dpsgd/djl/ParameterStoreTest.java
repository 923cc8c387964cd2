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
 * bit for bit (signed zeros, subnormals, extremes included); later writes, in place, are what every
 * later call computes with; the non-private sum's first add after a
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

    /**
     * Writes after the first go into the parameters' memory in place: a model that ran steps at
     * parameters A and was then given B computes, in every strategy and in evaluation, exactly what a
     * fresh model given B computes (bit for bit), and reads B back.
     */
    @ParameterizedTest
    @ValueSource(strings = {"nonprivate,float32", "nonprivate,float64", "auto,float32", "microbatch,float64"})
    void inPlaceWritesAreSeenByEveryLaterCall(String strategyAndPrecision) {
        String strategy = strategyAndPrecision.split(",")[0];
        String precision = strategyAndPrecision.split(",")[1];
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x12x12"), 10);
        int n = (int) net.parameterCount();
        DeviceBatch b = TestSupport.batch(net, 6, 1, 13, 1.0, 2);
        SplittableRandom r = new SplittableRandom(17);
        float[] a = new float[n];
        float[] pb = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (0.3 * TestSupport.gaussian(r));
            pb[i] = (float) (0.3 * TestSupport.gaussian(r));
        }
        double[] reused = new double[n];
        double[] fresh = new double[n];
        double[] reusedLogits;
        double[] freshLogits;
        float[] back = new float[n];
        try (DjlTrainableModel m = TestSupport.model(net, strategy, precision, List.of())) {
            m.writeParameters(a);
            step(m, strategy, b);
            m.drainGradientSum(new double[n]);
            m.logits(b);
            m.writeParameters(pb);
            step(m, strategy, b);
            m.drainGradientSum(reused);
            reusedLogits = m.logits(b);
            m.readParameters(back);
        }
        try (DjlTrainableModel m = TestSupport.model(net, strategy, precision, List.of())) {
            m.writeParameters(pb);
            step(m, strategy, b);
            m.drainGradientSum(fresh);
            freshLogits = m.logits(b);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(pb[i]), Float.floatToRawIntBits(back[i]), "parameter " + i);
            assertEquals(fresh[i], reused[i], "gradient " + i);
        }
        for (int i = 0; i < freshLogits.length; i++) assertEquals(freshLogits[i], reusedLogits[i], "logit " + i);
    }

    private static void step(DjlTrainableModel m, String strategy, DeviceBatch b) {
        if (strategy.equals("nonprivate")) m.accumulateUnclipped(b);
        else m.accumulateClipped(b, 0.5);
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
