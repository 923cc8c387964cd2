package org.dpsgd.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The reference model must itself be right: finite differences, batch-of-one loop, masking, clipping. */
class LogisticRegressionModelTest {
    private static final Shape SHAPE = new Shape(3, 1, 1);

    private static float[] randomParams(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = new float[n];
        for (int i = 0; i < n; i++) p[i] = (float) (r.nextDouble() - 0.5);
        return p;
    }

    private static DeviceBatch batch(int slots, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        DeviceBatch b = new DeviceBatch(SHAPE, slots, k);
        for (int i = 0; i < b.inputs().length; i++) b.inputs()[i] = (float) (r.nextDouble() * 4 - 2);
        for (int s = 0; s < slots; s++) {
            b.labels()[s] = r.nextInt(4);
            b.mask()[s] = 1f;
            b.exampleIds()[s] = s;
        }
        return b;
    }

    @Test
    void perSampleGradientMatchesFiniteDifferencesOfTheLoss() {
        float[] p = randomParams(16, 1);
        LogisticRegressionModel m = new LogisticRegressionModel(SHAPE, 4, null, p);
        DeviceBatch b = batch(1, 2, 2);
        double[] g = new double[16];
        m.slotGradient(b, 0, g);
        double h = 1e-3;
        for (int i = 0; i < 16; i++) {
            float[] plus = p.clone(), minus = p.clone();
            plus[i] += (float) h;
            minus[i] -= (float) h;
            double lp = lossOf(plus, b), lm = lossOf(minus, b);
            double dh = plus[i] - minus[i];
            assertEquals((lp - lm) / dh, g[i], 2e-3, "coordinate " + i);
        }
    }

    private static double lossOf(float[] params, DeviceBatch b) {
        LogisticRegressionModel m = new LogisticRegressionModel(SHAPE, 4, null, params);
        DeviceBatch single = new DeviceBatch(SHAPE, 1, 1);
        double total = 0;
        for (int c = 0; c < b.multiplicity(); c++) {
            System.arraycopy(b.inputs(), b.inputOffset(0, c), single.inputs(), 0, SHAPE.size());
            single.labels()[0] = b.labels()[0];
            single.mask()[0] = 1f;
            total += m.evaluate(single).lossSum();
        }
        return total / b.multiplicity();
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.05, 0.5, 100})
    void clippedSumEqualsTheBatchOfOneLoopAndMaskedSlotsAddNothing(double clip) {
        float[] p = randomParams(16, 3);
        LogisticRegressionModel batched = new LogisticRegressionModel(SHAPE, 4, null, p);
        DeviceBatch b = batch(6, 2, 4);
        b.mask()[2] = 0f; // padding with garbage inputs and label
        b.mask()[5] = 0f;
        BatchStats stats = batched.accumulateClipped(b, clip);
        float[] sum = new float[16];
        batched.drainGradientSum(sum);
        assertEquals(4, stats.samples());

        double[] expected = new double[16];
        for (int s = 0; s < 6; s++) {
            if (s == 2 || s == 5) continue;
            DeviceBatch one = new DeviceBatch(SHAPE, 1, 2);
            System.arraycopy(b.inputs(), b.inputOffset(s, 0), one.inputs(), 0, 2 * SHAPE.size());
            one.labels()[0] = b.labels()[s];
            one.mask()[0] = 1f;
            LogisticRegressionModel single = new LogisticRegressionModel(SHAPE, 4, null, p);
            single.accumulateUnclipped(one);
            float[] g = new float[16];
            single.drainGradientSum(g);
            double norm = 0;
            for (float v : g) norm += (double) v * v;
            norm = Math.sqrt(norm);
            double scale = Math.min(1, clip / norm);
            for (int i = 0; i < 16; i++) expected[i] += scale * g[i];
        }
        for (int i = 0; i < 16; i++) assertEquals(expected[i], sum[i], 1e-6, "coordinate " + i);
        float[] again = new float[16];
        batched.drainGradientSum(again);
        assertArrayEquals(new float[16], again, "drain zeroes the accumulator");
    }

    @Test
    void frozenParametersGetNoGradient() {
        LogisticRegressionModel m = new LogisticRegressionModel(
                SHAPE, 4, new ModelOptions(null, null, List.of("fc.weight"), null), randomParams(16, 5));
        m.accumulateUnclipped(batch(3, 1, 6));
        float[] g = new float[16];
        m.drainGradientSum(g);
        for (int i = 0; i < 12; i++) assertEquals(0f, g[i]);
        assertEquals(false, Arrays.equals(Arrays.copyOfRange(g, 12, 16), new float[4]));
    }
}
