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
    /** ties: 0 = continuous values, 1 = a few distinct values and many zeros (post-ReLU maps), 2 = also NaNs. */
    @ParameterizedTest(name = "{0} N={1} C={2} {3}x{4} k={5} s={6} p={7} ties={8}")
    @CsvSource({
        "FLOAT32,8,64,16,16,3,2,1,0", // resnet18-gn's stem pool, at batch 8
        "FLOAT32,8,64,16,16,3,2,1,1",
        "FLOAT64,4,16,9,7,3,2,1,1", // odd sizes: the last window is cut by the floor mode
        "FLOAT64,3,5,8,8,2,2,0,1", // small-cnn's pools; C = 5 is below one vector of lanes
        "FLOAT32,3,20,10,10,2,1,0,1",
        "FLOAT32,2,17,11,11,3,1,1,2",
        "FLOAT64,2,3,6,6,3,3,0,2",
        "FLOAT32,1,1,5,5,5,1,2,1" // one channel, windows wider than half the map
    })
    void equalsTheNchwKernelAndTheDefinition(String type, int n, int c, int h, int w, int k, int s, int p, int ties) {
        TestSupport.backend();
        DataType t = DataType.valueOf(type);
        SplittableRandom r = new SplittableRandom(7919L * n + 131L * c + 17L * h + 5L * k + s + 3L * p + ties);
        double[] x = new double[n * c * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (ties) {
                case 0 -> TestSupport.gaussian(r);
                default -> r.nextInt(3) == 0 ? 0.0 : r.nextInt(4) * 0.5 - 0.5; // -0.5, 0, 0.5, 1: ties everywhere
            };
            if (ties == 2 && r.nextInt(40) == 0) x[i] = Double.NaN;
        }
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
            double[][] want = definition(x, up, n * c, h, w, k, s, p, t == DataType.FLOAT32);
            assertArrayEquals(want[0], ours[0], 0.0, "forward, against the definition");
            assertArrayEquals(want[1], ours[1], 0.0, "input gradient, against the definition");
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
                src.contains("torch.max_pool2d(v.contiguous(memory_format=2), [3, 3], [2, 2], [1, 1], [1, 1], False)"),
                src);
        assertTrue(src.contains("return y.contiguous()"), src);
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
}
