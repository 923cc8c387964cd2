package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link NativeConvUnfold} against definitions computed in Java: the unfold is each window's input
 * values (or 0 over padding) exactly, bit for bit, in float64 and float32; the per-sample weight gradient
 * of each slot, in both layouts, is the batch-size-1 sum Σ_copies Σ_positions g·x of that slot alone in
 * float64 (slots' inputs differ by orders of magnitude, so a value taken from another slot is seen).
 */
class NativeConvUnfoldTest {
    /** A geometry: slots S, copies K, channels C, outputs p, kernel, stride, padding, input H×W. */
    record Case(int slots, int copies, int c, int p, int k, int st, int pad, int h, int w) {
        int ho() {
            return (h + 2 * pad - k) / st + 1;
        }

        int wo() {
            return (w + 2 * pad - k) / st + 1;
        }

        /** The input value at (row n, channel ch, padded coordinates y, x): 0 over the padding. */
        double at(double[] in, int n, int ch, int y, int x) {
            int yy = y - pad;
            int xx = x - pad;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) return 0;
            return in[((n * c + ch) * h + yy) * w + xx];
        }
    }

    static Case parse(String s) {
        String[] f = s.split(" ");
        int[] v = new int[f.length];
        for (int i = 0; i < f.length; i++) v[i] = Integer.parseInt(f[i]);
        return new Case(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
    }

    static double[] input(Case t, SplittableRandom r) {
        double[] x = new double[t.slots() * t.copies() * t.c() * t.h() * t.w()];
        int per = x.length / t.slots();
        // Slot s's values are scaled by 1000^s: a value from a wrong slot changes a result by orders of magnitude.
        for (int i = 0; i < x.length; i++) x[i] = (r.nextDouble() * 2 - 1) * Math.pow(1000, i / per);
        return x;
    }

    @ParameterizedTest(name = "S K C p k st pad H W = {0}")
    @CsvSource({
        "3 1 1 4 3 1 1 6 6", // small-cnn's conv1 shape class: one channel, weight-order copy
        "2 1 16 5 3 1 1 5 5", // many channels: kernel-major copy
        "2 2 3 4 3 2 1 7 6", // K = 2 copies, stride 2, H ≠ W
        "2 1 3 2 2 2 0 6 6", // even kernel, no padding
        "3 2 2 3 1 2 0 5 5", // strided 1x1
        "1 1 4 2 5 1 2 4 4" // kernel larger than the input, padding 2
    })
    void unfoldCopiesEachWindowExactly(String geometry) {
        Case t = parse(geometry);
        TestSupport.backend();
        double[] x = input(t, new SplittableRandom(geometry.hashCode()));
        int kk = t.k() * t.k();
        int cols = t.copies() * t.ho() * t.wo();
        double[] want = new double[t.slots() * t.c() * kk * cols];
        for (int s = 0; s < t.slots(); s++)
            for (int ch = 0; ch < t.c(); ch++)
                for (int i = 0; i < t.k(); i++)
                    for (int j = 0; j < t.k(); j++)
                        for (int q = 0; q < t.copies(); q++)
                            for (int y = 0; y < t.ho(); y++)
                                for (int z = 0; z < t.wo(); z++) {
                                    int row = (ch * t.k() + i) * t.k() + j;
                                    int col = (q * t.ho() + y) * t.wo() + z;
                                    want[(s * t.c() * kk + row) * cols + col] =
                                            t.at(x, s * t.copies() + q, ch, y * t.st() + i, z * t.st() + j);
                                }
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            Shape in = new Shape(t.slots() * t.copies(), t.c(), t.h(), t.w());
            NDArray got = u.unfold(m.create(x, in), t.k(), t.st(), t.pad(), t.copies());
            assertEquals(new Shape(t.slots(), t.c() * kk, cols), got.getShape());
            assertArrayEquals(want, got.toDoubleArray(), 0.0, "float64 unfold");
            // float32: the same copy of the rounded values.
            float[] want32 = new float[want.length];
            for (int i = 0; i < want.length; i++) want32[i] = (float) want[i];
            NDArray got32 =
                    u.unfold(m.create(x, in).toType(DataType.FLOAT32, false), t.k(), t.st(), t.pad(), t.copies());
            assertArrayEquals(want32, got32.toFloatArray(), 0f, "float32 unfold");
        }
    }

    @ParameterizedTest(name = "S K C p k st pad H W = {0}, kernel-major {1}")
    @CsvSource({
        "3 1 1 4 3 1 1 6 6, false",
        "3 1 1 4 3 1 1 6 6, true",
        "2 1 16 5 3 1 1 5 5, true",
        "2 1 16 5 3 1 1 5 5, false",
        "2 2 3 4 3 2 1 7 6, true",
        "2 2 3 4 3 2 1 7 6, false",
        "2 1 3 2 2 2 0 6 6, true",
        "3 2 2 3 1 2 0 5 5, false",
        "1 1 4 2 5 1 2 4 4, true"
    })
    void perSampleGradientIsEachSlotsOwnSum(String geometry, boolean kernelMajor) {
        Case t = parse(geometry);
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(31L * geometry.hashCode() + (kernelMajor ? 1 : 0));
        double[] x = input(t, r);
        int cols = t.copies() * t.ho() * t.wo();
        double[] g = new double[t.slots() * t.p() * cols];
        for (int i = 0; i < g.length; i++) g[i] = r.nextDouble() * 2 - 1;
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            NDArray xa = m.create(x, new Shape(t.slots() * t.copies(), t.c(), t.h(), t.w()));
            NDArray ga = m.create(g, new Shape(t.slots(), t.p(), cols));
            // Three calls: TorchScript profiles a module's first runs and may re-optimise its graph after them.
            NDArray got = null;
            for (int call = 0; call < 3; call++) {
                NDArray next = u.perSampleGradient(xa, ga, t.k(), t.st(), t.pad(), t.copies(), kernelMajor);
                if (got != null) assertArrayEquals(got.toDoubleArray(), next.toDoubleArray(), 0.0, "call " + call);
                got = next;
            }
            int d = t.c() * t.k() * t.k();
            assertEquals(new Shape(t.slots(), t.p(), d), got.getShape());
            double[] a = got.toDoubleArray();
            for (int s = 0; s < t.slots(); s++)
                for (int o = 0; o < t.p(); o++)
                    for (int ch = 0; ch < t.c(); ch++)
                        for (int i = 0; i < t.k(); i++)
                            for (int j = 0; j < t.k(); j++) {
                                // The batch-size-1 definition: slot s's copies and positions only.
                                double want = 0;
                                double mag = 0;
                                for (int q = 0; q < t.copies(); q++)
                                    for (int y = 0; y < t.ho(); y++)
                                        for (int z = 0; z < t.wo(); z++) {
                                            double gv = g[(s * t.p() + o) * cols + (q * t.ho() + y) * t.wo() + z];
                                            double xv = t.at(x, s * t.copies() + q, ch, y * t.st() + i, z * t.st() + j);
                                            want += gv * xv;
                                            mag += Math.abs(gv * xv);
                                        }
                                // Column of (ch, i, j): weight order, or (i, j, ch) when kernel-major.
                                int col = kernelMajor ? (i * t.k() + j) * t.c() + ch : (ch * t.k() + i) * t.k() + j;
                                double v = a[(s * t.p() + o) * d + col];
                                assertTrue(
                                        Math.abs(v - want) <= 1e-13 * mag + 1e-300,
                                        "slot " + s + " out " + o + " (c " + ch + ", " + i + ", " + j + "): " + v
                                                + " vs " + want);
                            }
        }
    }
}
