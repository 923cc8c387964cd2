package org.dpsgd.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.UserError;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Run in a child JVM by {@link MklStrictModeTest}, so the environment MKL starts with is the test's:
 * {@code backend} opens the DJL backend (which sets MKL's strict mode), {@code raw} loads the engine without it,
 * {@code late} lets MKL compute before a backend opens; then counts matrix-product rows whose bits change when the
 * row moves to another position, examples whose norm changes with their slot, and runs the backend's own probe.
 * Prints one line per count.
 */
final class RowProbe {
    private RowProbe() {}

    public static void main(String[] args) {
        boolean raw = !args[0].equals("backend");
        try {
            if (raw) Engine.getEngine("PyTorch");
            if (args[0].equals("late")) {
                // MKL starts (non-strict) before a backend opens: the backend must see it and refuse
                try (NDManager nd = NDManager.newBaseManager()) {
                    nd.ones(new ai.djl.ndarray.types.Shape(7, 7)).matMul(nd.ones(new ai.djl.ndarray.types.Shape(7, 7)));
                }
            }
            if (!raw || args[0].equals("late")) new DjlBackend(BackendOptions.cpu());
        } catch (UserError e) {
            System.out.println("refused: " + e.getMessage());
            return;
        }
        int mode = MklStrictMode.mode();
        System.out.println(mode == -1 ? "mode none" : String.format("mode 0x%x", mode));
        if (!raw) System.out.println("mkl " + MklStrictMode.describe());
        System.out.println("rows differing " + rowsDiffering());
        System.out.println("norms differing " + normsDiffering(raw));
        System.out.println("probe " + SlotInvarianceProbe.run(ai.djl.Device.cpu()));
    }

    /** Products A·B and A·Bᵀ with A's rows rolled by one: how many products change any row's bits. */
    static String rowsDiffering() {
        SplittableRandom r = new SplittableRandom(1);
        int bad = 0;
        int total = 0;
        for (int threads : new int[] {1, 2}) {
            JniUtils.setNumThreads(threads);
            for (int m : new int[] {5, 6, 7, 9, 12, 16})
                for (int k : new int[] {10, 64, 576})
                    for (int n : new int[] {10, 128})
                        for (boolean transposed : new boolean[] {false, true}) {
                            total++;
                            if (rowMoves(r, m, k, n, transposed)) bad++;
                        }
        }
        return bad + " of " + total;
    }

    private static boolean rowMoves(SplittableRandom r, int m, int k, int n, boolean transposed) {
        try (NDManager nd = NDManager.newBaseManager()) {
            float[] a = gaussian(r, m * k);
            float[] rolled = new float[m * k];
            for (int i = 0; i < m; i++) System.arraycopy(a, i * k, rolled, ((i + 1) % m) * k, k);
            float[] b = gaussian(r, k * n);
            NDArray bm = transposed
                    ? nd.create(b, new ai.djl.ndarray.types.Shape(n, k)).transpose()
                    : nd.create(b, new ai.djl.ndarray.types.Shape(k, n));
            float[] c = nd.create(a, new ai.djl.ndarray.types.Shape(m, k))
                    .matMul(bm)
                    .toFloatArray();
            float[] moved = nd.create(rolled, new ai.djl.ndarray.types.Shape(m, k))
                    .matMul(bm)
                    .toFloatArray();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    if (Float.floatToIntBits(c[i * n + j]) != Float.floatToIntBits(moved[((i + 1) % m) * n + j]))
                        return true;
            return false;
        }
    }

    /**
     * small-cnn, strategy auto, 1 and 2 threads, 7 and 9 slots: one example put in every slot of other calls. With
     * {@code raw} the model is made without opening a backend (which would refuse a non-strict MKL).
     */
    static String normsDiffering(boolean raw) {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x16x16"), 10);
        int bad = 0;
        int total = 0;
        for (int threads : new int[] {1, 2}) {
            JniUtils.setNumThreads(threads);
            for (int slots : new int[] {7, 9}) {
                try (DjlTrainableModel m = raw
                        ? new DjlTrainableModel(
                                net,
                                new ModelOptions("auto", BatchLayout.of(8), List.of(), Map.of("seed", "7")),
                                ai.djl.Device.cpu(),
                                BackendOptions.cpu(),
                                RuleOptions.DEFAULT)
                        : TestSupport.model(net, "auto", "float32", List.of())) {
                    DeviceBatch first = TestSupport.batch(net, slots, 1, 11, 1.0);
                    double a = m.perSampleGradientNorms(first)[0];
                    int perSlot = first.inputs().length / slots;
                    for (int s = 1; s < slots; s++) {
                        DeviceBatch moved = TestSupport.batch(net, slots, 1, 12 + s, 3.0);
                        System.arraycopy(first.inputs(), 0, moved.inputs(), s * perSlot, perSlot);
                        moved.labels()[s] = first.labels()[0];
                        total++;
                        if (Double.doubleToLongBits(m.perSampleGradientNorms(moved)[s]) != Double.doubleToLongBits(a))
                            bad++;
                    }
                }
            }
        }
        return bad + " of " + total;
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) TestSupport.gaussian(r);
        return x;
    }
}
