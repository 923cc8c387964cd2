package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The ghost path's kernel-major native rows ({@link NativeConvUnfold#unfoldRowsKernelMajor}, session 9): for seeded
 * geometries (kernels 1–5, strides 1–3, paddings 0 to k−1, non-square maps, K = 1–3, whole kernels and live-tap
 * windows), every element equals the weight-order rows' ({@link NativeConvUnfold#unfoldRows}, checked against the
 * definition by NativeConvUnfoldRowsTest and LiveTapsTest) at the permuted column, bit for bit, in float32 and float64;
 * {@link NativeConvUnfold#kernelMajorToWindowOrder} maps a [p, rows·columns·C] product in that order back to the
 * weight order exactly; and a contiguous view that starts past its storage's first element (review of r18x8, M1)
 * unfolds its own rows, with padding 0 and a 1x1 map (where the NHWC permute needs no copy).
 */
class KernelMajorRowsTest {
    @Test
    void kernelMajorRowsAreTheWeightOrderRowsWithTheirColumnsPermuted() {
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(909);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            int checked = 0;
            while (checked < 60) {
                int k = 1 + r.nextInt(5);
                int s = 1 + r.nextInt(3);
                int p = r.nextInt(k);
                int h = 1 + r.nextInt(6);
                int w = 1 + r.nextInt(6);
                if (h + 2 * p < k || w + 2 * p < k) continue;
                int c = 1 + r.nextInt(5);
                int copies = 1 + r.nextInt(3);
                int slots = 1 + r.nextInt(3);
                int[] a = NativeConvUnfold.liveTaps(h, k, s, p);
                int[] b = NativeConvUnfold.liveTaps(w, k, s, p);
                int[] window = r.nextBoolean() ? new int[] {0, k, 0, k} : new int[] {a[0], a[1], b[0], b[1]};
                DataType type = r.nextBoolean() ? DataType.FLOAT64 : DataType.FLOAT32;
                double[] x = new double[slots * copies * c * h * w];
                for (int i = 0; i < x.length; i++) x[i] = TestSupport.gaussian(r);
                NDArray xs = m.create(x, new Shape(slots * copies, c, h, w)).toType(type, false);
                String g = "k" + k + " s" + s + " p" + p + " " + h + "x" + w + " C" + c + " K" + copies + " window "
                        + java.util.Arrays.toString(window) + " " + type;
                assertSamePermuted(
                        u.unfoldRows(xs, k, s, p, copies, window),
                        u.unfoldRowsKernelMajor(xs, k, s, p, copies, window),
                        c,
                        window,
                        g);
                checked++;
            }
        }
    }

    @Test
    void anOffsetViewUnfoldsItsOwnRows() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            // {C, h, w}: a 2x3 map (a permute copy) and 1x1 maps (no copy: the NHWC permute is already contiguous).
            for (int[] geo : new int[][] {{2, 2, 3}, {3, 1, 1}, {1, 3, 2}}) {
                int c = geo[0];
                int h = geo[1];
                int w = geo[2];
                int per = c * h * w;
                NDArray all = m.arange(0f, 4f * per, 1f).reshape(4, c, h, w).toType(DataType.FLOAT64, false);
                NDArray view = all.get("2:4");
                int[] whole = {0, 1, 0, 1};
                NDArray got = u.unfoldRowsKernelMajor(view, 1, 1, 0, 1, whole);
                NDArray want = u.unfoldRowsKernelMajor(view.duplicate(), 1, 1, 0, 1, whole);
                double[] g = got.toDoubleArray();
                assertEquals(2.0 * per, g[0], 0.0, "the first element is the view's, not the storage's");
                double[] e = want.toDoubleArray();
                for (int i = 0; i < e.length; i++) assertEquals(e[i], g[i], 0.0, "C" + c + " " + h + "x" + w + " " + i);
            }
        }
    }

    @Test
    void theProductIsReorderedToTheWeightOrderExactly() {
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(5);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            int p = 4;
            int c = 3;
            int rows = 2;
            int cols = 3;
            double[] km = new double[p * rows * cols * c];
            for (int i = 0; i < km.length; i++) km[i] = TestSupport.gaussian(r);
            double[] got = NativeConvUnfold.kernelMajorToWindowOrder(
                            m.create(km, new Shape(p, rows * cols * c)), rows, cols)
                    .toDoubleArray();
            for (int o = 0; o < p; o++)
                for (int ch = 0; ch < c; ch++)
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                            assertEquals(
                                    km[o * rows * cols * c + (i * cols + j) * c + ch],
                                    got[o * c * rows * cols + (ch * rows + i) * cols + j],
                                    0.0);
        }
    }

    /** want [S, T', C·rows·cols] in (c, kh, kw) order, got the same in (kh, kw, c) order: equal, element by element. */
    private static void assertSamePermuted(NDArray want, NDArray got, int c, int[] window, String g) {
        assertEquals(want.getShape(), got.getShape(), g);
        int rows = window[1];
        int cols = window[3];
        int d = c * rows * cols;
        double[] a = want.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] b = got.toType(DataType.FLOAT64, false).toDoubleArray();
        for (int t = 0; t < a.length / d; t++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < cols; j++)
                        assertEquals(
                                a[t * d + (ch * rows + i) * cols + j],
                                b[t * d + (i * cols + j) * c + ch],
                                0.0,
                                g + " row " + t + " channel " + ch + " tap " + i + "," + j);
    }
}
