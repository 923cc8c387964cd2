package org.dpsgd.testing;

import java.util.SplittableRandom;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;

/** Small seeded datasets for tests. */
public final class SyntheticData {
    private SyntheticData() {}

    /**
     * A linearly separable problem: class c's examples are a fixed random unit-scale centre plus
     * small noise (the centres are {@code separation} apart on average; noise std {@code noise}).
     */
    public static InMemoryDataset blobs(int n, Shape shape, int classes, double separation, double noise, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int d = shape.size();
        double[][] centres = new double[classes][d];
        for (double[] c : centres) for (int i = 0; i < d; i++) c[i] = (rng.nextDouble() * 2 - 1) * separation;
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int e = 0; e < n; e++) {
            y[e] = e % classes;
            for (int i = 0; i < d; i++) x[e * d + i] = (float) (centres[y[e]][i] + noise * gaussian(rng));
        }
        return new InMemoryDataset(shape, classes, x, y, "blobs(n=" + n + ", seed=" + seed + ")");
    }

    /** Example e has every pixel equal to e + 1 (easy to recognise after assembly); label e mod classes. */
    public static InMemoryDataset indexed(int n, Shape shape, int classes) {
        int d = shape.size();
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int e = 0; e < n; e++) {
            y[e] = e % classes;
            java.util.Arrays.fill(x, e * d, (e + 1) * d, e + 1);
        }
        return new InMemoryDataset(shape, classes, x, y, "indexed(n=" + n + ")");
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
