package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ChannelsLastMaxPool} against DJL's NCHW max-pool call (bit for bit, forward and the input
 * gradient, ties and NaN included) and against a max pool written out in Java (first strict maximum
 * of each window in scan order; the output gradient scattered to it in output order).
 */
class ChannelsLastMaxPoolTest {
    /**
     * ties: 0 = continuous values, 1 = a few distinct values and many zeros (post-ReLU maps), 2 = also NaNs,
     * 3 = also +inf and -inf (whole windows of -inf among them), 4 = post-ReLU zeros only with rare positives,
     * 5 = 0.0, -0.0 and 1.0 (which zero a window returns shows only in the bits, so those are compared too).
     */
    @ParameterizedTest(name = "{0} N={1} C={2} {3}x{4} k={5} s={6} p={7} ties={8}")
    @CsvSource({
        "FLOAT32,8,64,16,16,3,2,1,0", // resnet18-gn's stem pool, at batch 8
        "FLOAT32,8,64,16,16,3,2,1,1",
        "FLOAT64,4,16,9,7,3,2,1,1", // odd sizes: the last window is cut by the floor mode
        "FLOAT64,3,5,8,8,2,2,0,1", // small-cnn's pools; C = 5 is below one vector of lanes
        "FLOAT32,3,20,10,10,2,1,0,1",
        "FLOAT32,2,17,11,11,3,1,1,2",
        "FLOAT64,2,3,6,6,3,3,0,2",
        "FLOAT32,1,1,5,5,5,1,2,1", // one channel, windows wider than half the map
        "FLOAT32,64,16,28,28,2,2,0,4", // small-cnn's pools at batch 64: all-zero windows everywhere
        "FLOAT32,64,32,14,14,2,2,0,1",
        "FLOAT64,64,64,16,16,3,2,1,4", // resnet18-gn's stem pool at batch 64
        "FLOAT32,4,8,7,9,3,2,1,3",
        "FLOAT64,3,6,9,9,3,3,1,3",
        "FLOAT32,2,16,13,13,2,2,0,2", // odd map, floor mode drops the last row and column
        "FLOAT64,2,3,8,8,2,3,0,1", // strides larger than the kernel (review of session 9)
        "FLOAT32,2,4,9,9,3,4,1,3",
        "FLOAT32,1,3,4,4,2,3,1,5", // batch 1; ties between 0.0 and -0.0
        "FLOAT64,3,8,8,8,2,2,0,5"
    })
    void equalsTheNchwKernelAndTheDefinition(String type, int n, int c, int h, int w, int k, int s, int p, int ties) {
        TestSupport.backend();
        DataType t = DataType.valueOf(type);
        SplittableRandom r = new SplittableRandom(7919L * n + 131L * c + 17L * h + 5L * k + s + 3L * p + ties);
        double[] x = new double[n * c * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (ties) {
                case 0 -> TestSupport.gaussian(r);
                case 4 -> r.nextInt(10) == 0 ? r.nextInt(3) * 0.25 : 0.0; // mostly 0: whole windows of ties
                case 5 -> new double[] {0.0, -0.0, -0.0, 0.0, 1.0}[r.nextInt(5)];
                default -> r.nextInt(3) == 0 ? 0.0 : r.nextInt(4) * 0.5 - 0.5; // -0.5, 0, 0.5, 1: ties everywhere
            };
            if (ties == 2 && r.nextInt(40) == 0) x[i] = Double.NaN;
            if (ties == 3) {
                int u = r.nextInt(12);
                if (u == 0) x[i] = Double.POSITIVE_INFINITY;
                else if (u < 5) x[i] = Double.NEGATIVE_INFINITY;
                else if (u == 5) x[i] = Double.NaN;
            }
        }
        if (ties == 3) for (int i = 0; i < 2 * w; i++) x[i] = Double.NEGATIVE_INFINITY; // the first plane's top rows
        if (t == DataType.FLOAT32) for (int i = 0; i < x.length; i++) x[i] = (float) x[i];
        int ho = (h + 2 * p - k) / s + 1;
        int wo = (w + 2 * p - k) / s + 1;
        double[] up = new double[n * c * ho * wo];
        for (int i = 0; i < up.length; i++)
            up[i] = t == DataType.FLOAT32 ? (float) TestSupport.gaussian(r) : TestSupport.gaussian(r);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            ChannelsLastMaxPool pool = new ChannelsLastMaxPool(m);
            Shape in = new Shape(n, c, h, w);
            double[][] ours = run(m, x, up, in, t, a -> pool.apply(a, k, s, p), true);
            for (int call = 2; call <= 4; call++) { // a TorchScript executor may change its plan after the first calls
                double[][] again = run(m, x, up, in, t, a -> pool.apply(a, k, s, p), true);
                assertArrayEquals(ours[0], again[0], 0.0, "forward, call " + call);
                assertArrayEquals(ours[1], again[1], 0.0, "input gradient, call " + call);
            }
            double[][] nchw = run(
                    m,
                    x,
                    up,
                    in,
                    t,
                    a -> Pool.maxPool2d(a, new Shape(k, k), new Shape(s, s), new Shape(p, p), false),
                    false);
            assertArrayEquals(nchw[0], ours[0], 0.0, "forward, against the NCHW kernel");
            assertArrayEquals(nchw[1], ours[1], 0.0, "input gradient, against the NCHW kernel");
            assertArrayEquals(bits(nchw[0]), bits(ours[0]), "forward bits, against the NCHW kernel");
            assertArrayEquals(bits(nchw[1]), bits(ours[1]), "input gradient bits, against the NCHW kernel");
            double[][] want = definition(x, up, n * c, h, w, k, s, p, t == DataType.FLOAT32);
            assertArrayEquals(want[0], ours[0], 0.0, "forward, against the definition");
            assertArrayEquals(want[1], ours[1], 0.0, "input gradient, against the definition");
        }
    }

    /** An example's output and input gradient do not move when another example's input does. */
    @Test
    void eachExampleReadsOnlyItsOwnPlanes() {
        TestSupport.backend();
        int n = 3, c = 4, h = 8, w = 8;
        SplittableRandom r = new SplittableRandom(5);
        double[] x = new double[n * c * h * w];
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(3) == 0 ? 0.0 : (float) TestSupport.gaussian(r);
        double[] up = new double[n * c * 4 * 4];
        for (int i = 0; i < up.length; i++) up[i] = (float) TestSupport.gaussian(r);
        double[] moved = x.clone();
        for (int i = c * h * w; i < 2 * c * h * w; i++) moved[i] = 10.0 + i; // example 1 only; its maxima move
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            ChannelsLastMaxPool pool = new ChannelsLastMaxPool(m);
            Shape in = new Shape(n, c, h, w);
            double[][] a = run(m, x, up, in, DataType.FLOAT32, v -> pool.apply(v, 3, 2, 1), true);
            double[][] b = run(m, moved, up, in, DataType.FLOAT32, v -> pool.apply(v, 3, 2, 1), true);
            int outPer = c * 16;
            int inPer = c * h * w;
            for (int e : new int[] {0, 2}) {
                for (int i = 0; i < outPer; i++) assertEquals(a[0][e * outPer + i], b[0][e * outPer + i], 0.0, "y");
                for (int i = 0; i < inPer; i++) assertEquals(a[1][e * inPer + i], b[1][e * inPer + i], 0.0, "dx");
            }
            boolean changed = false;
            for (int i = 0; i < outPer; i++) changed |= a[0][outPer + i] != b[0][outPer + i];
            assertTrue(changed, "example 1's own output moved");
        }
    }

    @Test
    void sixteenBitTypesAndOtherRanksKeepTheNchwCall() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            ChannelsLastMaxPool pool = new ChannelsLastMaxPool(m);
            assertNull(pool.apply(m.ones(new Shape(2, 4, 4, 4), DataType.FLOAT16), 2, 2, 0));
            assertNull(pool.apply(m.ones(new Shape(4, 4, 4), DataType.FLOAT32), 2, 2, 0));
        }
    }

    @Test
    void sourceNamesTheWindowAndRefusesBadOnes() {
        String src = ChannelsLastMaxPool.source(3, 2, 1);
        assertTrue(
                src.contains(
                        "torch.max_pool2d_with_indices(torch.detach(x).contiguous(memory_format=2), [3, 3], [2, 2],"
                                + " [1, 1], [1, 1], False)"),
                src);
        assertTrue(src.contains("torch.gather(torch.reshape(x, [n, c, hw]), 2, idx)"), src);
        assertThrows(IllegalArgumentException.class, () -> ChannelsLastMaxPool.source(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> ChannelsLastMaxPool.source(2, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> ChannelsLastMaxPool.source(3, 1, 2)); // padding > k/2
        assertThrows(IllegalArgumentException.class, () -> ChannelsLastMaxPool.source(3, 1, -1));
    }

    /** {y, dx} and, for the channels-last call, that y is contiguous NCHW again (the next layer sees what it always did). */
    private static double[][] run(
            NDManager m, double[] x, double[] up, Shape in, DataType t, Function<NDArray, NDArray> pool, boolean ours) {
        NDArray xa = m.create(x, in).toType(t, false);
        xa.setRequiresGradient(true);
        double[] y = ModelRuntime.withGrad(() -> {
            NDArray out = pool.apply(xa);
            assertEquals(t, out.getDataType());
            if (ours) assertTrue(isContiguous(out), "the pooled output is NCHW-contiguous");
            NDArray ua = m.create(up, out.getShape()).toType(t, false);
            NDArray loss = out.mul(ua).sum();
            JniUtils.backward((PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), t), false, false);
            return Precision.toDoubles(out);
        });
        return new double[][] {y, Precision.toDoubles(xa.getGradient())};
    }

    /**
     * Max pool of planes [planes, h, w] in double: each window's first maximum in scan order, where a NaN
     * wins and a later NaN replaces it (PyTorch's {@code val > max || isnan(val)}); padding never wins.
     * The input gradient adds each output's upstream gradient at its maximum, outputs in order, rounding
     * each sum to float when {@code float32} (the kernel accumulates in the tensor's type).
     */
    static double[][] definition(
            double[] x, double[] up, int planes, int h, int w, int k, int s, int p, boolean float32) {
        int ho = (h + 2 * p - k) / s + 1;
        int wo = (w + 2 * p - k) / s + 1;
        double[] y = new double[planes * ho * wo];
        double[] dx = new double[x.length];
        for (int q = 0; q < planes; q++) {
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < wo; ox++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int at = -1;
                    for (int iy = Math.max(oy * s - p, 0); iy < Math.min(oy * s - p + k, h); iy++) {
                        for (int ix = Math.max(ox * s - p, 0); ix < Math.min(ox * s - p + k, w); ix++) {
                            double v = x[(q * h + iy) * w + ix];
                            if (v > best || Double.isNaN(v) || at < 0) {
                                best = v;
                                at = (q * h + iy) * w + ix;
                            }
                        }
                    }
                    int o = (q * ho + oy) * wo + ox;
                    y[o] = best;
                    dx[at] += up[o];
                    if (float32) dx[at] = (float) dx[at]; // the kernel adds in its own type
                }
            }
        }
        return new double[][] {y, dx};
    }

    private static boolean isContiguous(NDArray a) {
        try {
            Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field f = lib.getDeclaredField("LIB");
            f.setAccessible(true);
            Method m = lib.getDeclaredMethod("torchIsContiguous", long.class);
            m.setAccessible(true);
            return (Boolean) m.invoke(f.get(null), ((PtNDArray) a).getHandle());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** The raw bits (assertArrayEquals with a delta takes 0.0 and -0.0 as equal). */
    private static long[] bits(double[] a) {
        long[] b = new long[a.length];
        for (int i = 0; i < a.length; i++) b[i] = Double.doubleToRawLongBits(a[i]);
        return b;
    }
}
