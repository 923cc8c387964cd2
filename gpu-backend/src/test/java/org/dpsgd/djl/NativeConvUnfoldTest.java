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

    /**
     * {@link NativeConvUnfold#formedGradients}, grouped and by the unfold, with the weight, the bias or both: each
     * slot's weight gradient is its batch-size-1 sum Σ_copies Σ_positions g·x in weight order, its bias gradient
     * Σ_copies Σ_positions g, both float64 (cast from the compute type), and each squared norm the float64 sum of
     * squares of exactly those returned values. In float64 to 1e-13 of the sum of magnitudes, in float32 to 2^-20
     * of it (float32 forming); the gradient arrives as the leaf's [S·K, p, Ho, Wo], so the copies' regrouping is
     * checked too. Three calls agree bit for bit (TorchScript re-optimises after its first runs), and so does a
     * call on the output gradient times a loss scale of 2^10 that it divides out.
     */
    @ParameterizedTest(name = "S K C p k st pad H W = {0}, grouped {1}, weight {2}, bias {3}, float32 {4}")
    @CsvSource({
        "3 1 1 4 3 1 1 6 6, true, true, true, false",
        "3 1 1 4 3 1 1 6 6, false, true, true, false",
        "2 1 16 5 3 1 1 5 5, true, true, true, false",
        "2 1 16 5 3 1 1 5 5, true, true, true, true",
        "2 1 16 5 3 1 1 5 5, false, true, true, true",
        "2 2 3 4 3 2 1 7 6, true, true, true, false",
        "2 2 3 4 3 2 1 7 6, false, true, true, false",
        "2 2 3 4 3 2 1 7 6, true, true, false, true",
        "2 1 3 2 2 2 0 6 6, true, false, true, false",
        "2 1 3 2 2 2 0 6 6, false, false, true, true",
        "3 2 2 3 1 2 0 5 5, true, true, true, false",
        "3 2 2 3 1 2 0 5 5, false, true, false, false",
        "1 1 4 2 5 1 2 4 4, true, true, true, true",
        // float32 by the unfold with weight and bias (the bias is the ones row of the weight's matmul): K = 2, and
        // small-cnn's conv1 (review of session 10: a bias norm taken from other values than its share was seen by
        // one row only)
        "2 2 3 4 3 2 1 7 6, false, true, true, true",
        "2 1 1 16 3 1 1 28 28, false, true, true, true"
    })
    void formedGradientsAreEachSlotsOwnSums(
            String geometry, boolean grouped, boolean weight, boolean bias, boolean float32) {
        Case t = parse(geometry);
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(17L * geometry.hashCode() + (grouped ? 1 : 0));
        double[] x = input(t, r);
        int n = t.slots() * t.copies();
        int hw = t.ho() * t.wo();
        double[] g = new double[n * t.p() * hw]; // the leaf's layout [S·K, p, Ho, Wo]
        for (int i = 0; i < g.length; i++) g[i] = r.nextDouble() * 2 - 1;
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            NDArray[] xg = leafArrays(m, t, x, g, float32);
            NDArray xa = xg[0];
            NDArray ga = xg[1];
            ai.djl.ndarray.NDList got = null;
            for (int call = 0; call < 3; call++) {
                ai.djl.ndarray.NDList next =
                        u.formedGradients(xa, ga, t.k(), t.st(), t.pad(), t.copies(), weight, bias, 1, grouped);
                assertEquals((weight ? 2 : 0) + (bias ? 2 : 0), next.size());
                for (NDArray a : next) assertEquals(DataType.FLOAT64, a.getDataType());
                if (got != null)
                    for (int i = 0; i < got.size(); i++)
                        assertArrayEquals(
                                got.get(i).toDoubleArray(), next.get(i).toDoubleArray(), 0.0, "call " + call);
                got = next;
            }
            // A loss scale of 2^10 on the output gradient, divided out inside: the very same values, bit for bit.
            ai.djl.ndarray.NDList scaled = u.formedGradients(
                    xa, ga.mul(1024), t.k(), t.st(), t.pad(), t.copies(), weight, bias, 1024, grouped);
            for (int i = 0; i < got.size(); i++)
                assertArrayEquals(got.get(i).toDoubleArray(), scaled.get(i).toDoubleArray(), 0.0, "scaled output " + i);
            double rel = float32 ? 0x1p-20 : 1e-13;
            int d = t.c() * t.k() * t.k();
            int out = 0;
            if (weight) {
                assertEquals(new Shape(t.slots(), t.p(), d), got.get(0).getShape());
                double[] a = got.get(0).toDoubleArray();
                double[] sq = got.get(1).toDoubleArray();
                for (int s = 0; s < t.slots(); s++) {
                    double ownSq = 0;
                    for (int o = 0; o < t.p(); o++)
                        for (int ch = 0; ch < t.c(); ch++)
                            for (int i = 0; i < t.k(); i++)
                                for (int j = 0; j < t.k(); j++) {
                                    double want = 0;
                                    double mag = 0;
                                    for (int q = 0; q < t.copies(); q++)
                                        for (int y = 0; y < t.ho(); y++)
                                            for (int z = 0; z < t.wo(); z++) {
                                                int row = s * t.copies() + q;
                                                double gv = g[(row * t.p() + o) * hw + y * t.wo() + z];
                                                double xv = t.at(x, row, ch, y * t.st() + i, z * t.st() + j);
                                                want += gv * xv;
                                                mag += Math.abs(gv * xv);
                                            }
                                    double v = a[(s * t.p() + o) * d + (ch * t.k() + i) * t.k() + j];
                                    ownSq += v * v;
                                    assertTrue(
                                            Math.abs(v - want) <= rel * mag + 1e-300,
                                            "slot " + s + " out " + o + " (c " + ch + ", " + i + ", " + j + "): " + v
                                                    + " vs " + want);
                                }
                    assertEquals(ownSq, sq[s], 1e-14 * ownSq, "squared norm of slot " + s);
                    assertWithinGamma(a, s * t.p() * d, t.p() * d, sq[s], "squared norm of slot " + s);
                }
                out = 2;
            }
            if (bias) {
                assertEquals(new Shape(t.slots(), t.p()), got.get(out).getShape());
                double[] b = got.get(out).toDoubleArray();
                double[] sq = got.get(out + 1).toDoubleArray();
                for (int s = 0; s < t.slots(); s++) {
                    double ownSq = 0;
                    for (int o = 0; o < t.p(); o++) {
                        double want = 0;
                        double mag = 0;
                        for (int q = 0; q < t.copies(); q++)
                            for (int i = 0; i < hw; i++) {
                                double gv = g[((s * t.copies() + q) * t.p() + o) * hw + i];
                                want += gv;
                                mag += Math.abs(gv);
                            }
                        double v = b[s * t.p() + o];
                        ownSq += v * v;
                        assertTrue(Math.abs(v - want) <= rel * mag, "bias slot " + s + " out " + o);
                    }
                    assertEquals(ownSq, sq[s], 1e-14 * ownSq, "bias squared norm of slot " + s);
                    assertWithinGamma(b, s * t.p(), t.p(), sq[s], "bias squared norm of slot " + s);
                }
            }
        }
    }

    /**
     * A bias gradient that nearly cancels over the positions (±2^10 in pairs plus a remainder near 1): its value
     * depends on the summation order far beyond float32's rounding of the result, so a squared norm taken from any
     * other sum than the returned share (another order, another pass) differs from Σ share² by much more than γ(n).
     * Both the grouped and the unfold path, float32 and float64, K = 1 and 2.
     */
    @ParameterizedTest(name = "S K C p k st pad H W = {0}, grouped {1}, float32 {2}")
    @CsvSource({
        "2 1 1 16 3 1 1 28 28, false, true",
        "2 2 3 4 3 2 1 7 6, false, true",
        "2 2 3 4 3 2 1 7 6, true, true",
        "3 1 2 3 3 1 1 6 6, false, false"
    })
    void aCancellingBiasHasItsNormFromItsOwnShare(String geometry, boolean grouped, boolean float32) {
        Case t = parse(geometry);
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(23L * geometry.hashCode() + (grouped ? 1 : 0));
        double[] x = input(t, r);
        int n = t.slots() * t.copies();
        int hw = t.ho() * t.wo();
        double[] g = new double[n * t.p() * hw];
        for (int i = 0; i < g.length; i++) {
            double big = (i % 2 == 0 ? 1 : -1) * 1024.0; // cancels in pairs
            g[i] = big + (r.nextDouble() * 2 - 1) * (1 + r.nextDouble());
        }
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            NDArray[] xg = leafArrays(m, t, x, g, float32);
            ai.djl.ndarray.NDList got =
                    u.formedGradients(xg[0], xg[1], t.k(), t.st(), t.pad(), t.copies(), true, true, 1, grouped);
            double[] b = got.get(2).toDoubleArray();
            double[] sq = got.get(3).toDoubleArray();
            for (int s = 0; s < t.slots(); s++) {
                double ownSq = 0;
                for (int o = 0; o < t.p(); o++) ownSq += b[s * t.p() + o] * b[s * t.p() + o];
                assertEquals(ownSq, sq[s], 1e-14 * ownSq, "bias squared norm of slot " + s);
                assertWithinGamma(b, s * t.p(), t.p(), sq[s], "bias squared norm of slot " + s);
            }
        }
    }

    /**
     * The input x [S·K, C, H, W] and the output gradient g [S·K, p, Ho, Wo] as the call gets them: in float32 when
     * asked, and then x and g themselves are rounded to float32 first, so the oracle sees the values the call sees.
     */
    private static NDArray[] leafArrays(NDManager m, Case t, double[] x, double[] g, boolean float32) {
        int n = t.slots() * t.copies();
        if (float32) {
            for (int i = 0; i < x.length; i++) x[i] = (float) x[i];
            for (int i = 0; i < g.length; i++) g[i] = (float) g[i];
        }
        NDArray xa = m.create(x, new Shape(n, t.c(), t.h(), t.w()));
        NDArray ga = m.create(g, new Shape(n, t.p(), t.ho(), t.wo()));
        if (!float32) return new NDArray[] {xa, ga};
        return new NDArray[] {xa.toType(DataType.FLOAT32, false), ga.toType(DataType.FLOAT32, false)};
    }

    /**
     * The float64 squared norm {@code got} of the n returned values v[from, from + n) is their exact sum of squares
     * (BigDecimal) to within ClipBound's γ(n) relative: the bound docs/core.md "Float margin" item 2 gives a float64
     * reduction of n non-negative terms, in any order and with fused multiply-adds.
     */
    private static void assertWithinGamma(double[] v, int from, int n, double got, String what) {
        java.math.BigDecimal exact = java.math.BigDecimal.ZERO;
        for (int i = from; i < from + n; i++) {
            java.math.BigDecimal x = new java.math.BigDecimal(v[i]);
            exact = exact.add(x.multiply(x));
        }
        double err = new java.math.BigDecimal(got)
                .subtract(exact)
                .abs()
                .round(java.math.MathContext.DECIMAL64)
                .doubleValue();
        assertTrue(
                err <= ClipBound.gamma(n) * exact.doubleValue(), what + ": error " + err + " beyond gamma(" + n + ")");
    }
}
