package org.dpsgd.testing;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.Dataset;

/**
 * Reusable checks of the privacy-relevant {@link TrainableModel} contract, for every backend's
 * tests. Each check throws AssertionError naming what went wrong. The reference for the clipped
 * sum is the batch-of-one loop run through the same static shape (one real slot, the rest padding).
 */
public final class TrainableModelContract {
    private TrainableModelContract() {}

    /** Runs every check on {@code model} (parameters must already be set) with batches of {@code slots} slots. */
    public static void checkAll(
            TrainableModel model, Dataset data, int slots, int multiplicity, double clipNorm, double tolerance) {
        clippedSumEqualsTheBatchOfOneLoop(model, data, slots, multiplicity, clipNorm, tolerance);
        paddingContributesNothing(model, data, slots, multiplicity, clipNorm, tolerance);
        drainZeroesTheAccumulator(model, data, slots, multiplicity, clipNorm);
    }

    /** A batch whose real slots hold examples 0, 1, ... at every other slot; padding slots hold finite garbage. */
    public static DeviceBatch mixedBatch(Dataset data, int slots, int multiplicity, long seed, boolean garbagePadding) {
        DeviceBatch b = new DeviceBatch(data.shape(), slots, multiplicity);
        SplittableRandom r = new SplittableRandom(seed);
        int n = data.shape().size();
        int next = 0;
        for (int s = 0; s < slots; s++) {
            boolean real = s % 2 == 0 || slots == 1;
            if (real) {
                int id = next++ % data.size();
                for (int c = 0; c < multiplicity; c++) data.read(id, b.inputs(), b.inputOffset(s, c));
                b.labels()[s] = data.label(id);
                b.mask()[s] = 1f;
                b.exampleIds()[s] = id;
            } else if (garbagePadding) {
                for (int i = 0; i < multiplicity * n; i++)
                    b.inputs()[b.inputOffset(s, 0) + i] = (float) (r.nextDouble() * 20 - 10);
                b.labels()[s] = r.nextInt(data.numClasses());
            }
        }
        return b;
    }

    private static float[] drain(TrainableModel m) {
        float[] g = new float[Math.toIntExact(m.network().parameterCount())];
        m.drainGradientSum(g);
        return g;
    }

    public static void clippedSumEqualsTheBatchOfOneLoop(
            TrainableModel model, Dataset data, int slots, int multiplicity, double clipNorm, double tolerance) {
        DeviceBatch batch = mixedBatch(data, slots, multiplicity, 1, true);
        drain(model);
        BatchStats stats = model.accumulateClipped(batch, clipNorm);
        float[] sum = drain(model);
        if (stats.samples() != batch.realCount()) {
            throw new AssertionError("accumulateClipped reported " + stats.samples() + " samples for "
                    + batch.realCount() + " real slots");
        }
        double[] expected = new double[sum.length];
        for (int s = 0; s < slots; s++) {
            if (batch.mask()[s] == 0f) continue;
            DeviceBatch one = new DeviceBatch(data.shape(), slots, multiplicity);
            int n = data.shape().size() * multiplicity;
            System.arraycopy(batch.inputs(), batch.inputOffset(s, 0), one.inputs(), one.inputOffset(0, 0), n);
            one.labels()[0] = batch.labels()[s];
            one.mask()[0] = 1f;
            one.exampleIds()[0] = batch.exampleIds()[s];
            model.accumulateClipped(one, clipNorm);
            float[] g = drain(model);
            double norm = 0;
            for (float v : g) norm += (double) v * v;
            norm = Math.sqrt(norm);
            if (norm > clipNorm * (1 + tolerance) + tolerance) {
                throw new AssertionError("slot " + s + ": clipped gradient norm " + norm + " exceeds C = " + clipNorm);
            }
            for (int i = 0; i < g.length; i++) expected[i] += g[i];
        }
        for (int i = 0; i < sum.length; i++) {
            double scale = Math.max(1, Math.abs(expected[i]));
            if (Math.abs(sum[i] - expected[i]) > tolerance * scale) {
                throw new AssertionError("clipped sum differs from the batch-of-one loop at parameter " + i + ": "
                        + sum[i] + " vs " + expected[i]);
            }
        }
    }

    public static void paddingContributesNothing(
            TrainableModel model, Dataset data, int slots, int multiplicity, double clipNorm, double tolerance) {
        drain(model);
        model.accumulateClipped(mixedBatch(data, slots, multiplicity, 2, false), clipNorm);
        float[] clean = drain(model);
        model.accumulateClipped(mixedBatch(data, slots, multiplicity, 2, true), clipNorm);
        float[] garbage = drain(model);
        for (int i = 0; i < clean.length; i++) {
            if (Math.abs(clean[i] - garbage[i]) > tolerance * Math.max(1, Math.abs(clean[i]))) {
                throw new AssertionError("masked slots changed the clipped sum at parameter " + i + ": " + clean[i]
                        + " vs " + garbage[i]);
            }
        }
        DeviceBatch allPadding = new DeviceBatch(data.shape(), slots, multiplicity);
        BatchStats st = model.accumulateClipped(allPadding, clipNorm);
        float[] none = drain(model);
        if (st.samples() != 0 || !Arrays.equals(none, new float[none.length])) {
            throw new AssertionError("an all-padding call must add exactly nothing (samples " + st.samples() + ")");
        }
    }

    public static void drainZeroesTheAccumulator(
            TrainableModel model, Dataset data, int slots, int multiplicity, double clipNorm) {
        model.accumulateClipped(mixedBatch(data, slots, multiplicity, 3, true), clipNorm);
        drain(model);
        float[] again = drain(model);
        if (!Arrays.equals(again, new float[again.length]))
            throw new AssertionError("drainGradientSum must zero the accumulator");
    }
}
