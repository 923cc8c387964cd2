package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link WindowConv} (a 1×1-output convolution as one matrix product over the taps that fall on the
 * input) against DJL's convolution: output and the gradients of x, w and b, in float64 and float32; and,
 * through resnet18-gn at 32×32 (whose layer4 maps are 1×1), the non-private gradient sum against the
 * book-keeping strategy's unclipped sum, which convolves.
 */
class WindowConvTest {
    @ParameterizedTest(name = "C={0} O={1} {2}x{3} k={4} s={5} p={6} bias={7} {8}")
    @CsvSource({
        "5,4,1,1,3,1,1,false,FLOAT64", // layer4's 3x3 on a 1x1 map: the centre tap alone
        "6,3,2,2,3,2,1,false,FLOAT64", // layer4's first, strided 3x3 on 2x2: taps [1,3) x [1,3)
        "6,3,2,2,1,2,0,false,FLOAT64", // layer4's strided 1x1 shortcut: input position (0, 0) alone
        "3,2,3,3,3,1,0,true,FLOAT64", // the whole input, all taps
        "4,3,1,1,1,1,0,true,FLOAT64",
        "4,3,3,3,5,1,1,true,FLOAT64", // taps [1, 4) of 5
        "2,2,4,4,3,4,0,true,FLOAT64", // a stride larger than the kernel: the window is x[:3, :3]
        "2,3,4,3,3,2,0,false,FLOAT64", // rows and columns differ: (4-3)/2+1 = 1, (3-3)/2+1 = 1
        "64,32,1,1,3,1,1,false,FLOAT32",
        "32,16,2,2,3,2,1,true,FLOAT32"
    })
    void equalsTheConvolution(int c, int o, int h, int w, int k, int s, int p, boolean bias, String type) {
        TestSupport.backend();
        DataType t = DataType.valueOf(type);
        SplittableRandom r = new SplittableRandom(1009L * c + 101L * o + 31L * h + 7L * k + 3L * s + p);
        int n = 3;
        double[] x = gaussians(r, n * c * h * w);
        double[] wt = gaussians(r, o * c * k * k);
        double[] b = gaussians(r, o);
        double[] up = gaussians(r, n * o);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            double[][] ours = run(m, t, x, wt, bias ? b : null, up, n, c, h, w, o, k, s, p, true);
            double[][] conv = run(m, t, x, wt, bias ? b : null, up, n, c, h, w, o, k, s, p, false);
            double tol = t == DataType.FLOAT64 ? 1e-13 : 2e-6;
            String[] what = {"y", "dx", "dw", "db"};
            for (int i = 0; i < (bias ? 4 : 3); i++) assertClose(conv[i], ours[i], tol, what[i]);
        }
    }

    @Test
    void otherShapesAndTypesKeepTheConvolution() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray w3 = m.ones(new Shape(2, 3, 3, 3));
            assertNull(WindowConv.apply(m.ones(new Shape(1, 3, 4, 4)), w3, null, 1, 1), "4x4 output");
            assertNull(WindowConv.apply(m.ones(new Shape(1, 3, 2, 2)), w3, null, 1, 1), "2x2 output");
            assertNull(
                    WindowConv.apply(
                            m.ones(new Shape(1, 3, 1, 1), DataType.FLOAT16),
                            w3.toType(DataType.FLOAT16, false),
                            null,
                            1,
                            1),
                    "16-bit");
            assertNotNull(WindowConv.apply(m.ones(new Shape(1, 3, 1, 1)), w3, null, 1, 1), "1x1 output");
            // 1x1 outputs whose window would crop two rows (a 3x3, stride 3 on 5x4) or lie wholly in the
            // padding (2x2, stride 5, padding 2): DJL's pad cannot crop two, so these keep the convolution.
            assertNull(WindowConv.apply(m.ones(new Shape(1, 3, 5, 4)), w3, null, 3, 0), "crop of two rows");
            assertNull(
                    WindowConv.apply(m.ones(new Shape(1, 3, 2, 2)), m.ones(new Shape(2, 3, 2, 2)), null, 5, 2),
                    "window in the padding");
        }
    }

    /**
     * A network with those geometries (review of session 9: the single pad threw on them) trains in the
     * non-private step, and its sum equals the book-keeping strategy's unclipped sum, which convolves.
     */
    @ParameterizedTest(name = "{0}x{1} k={2} s={3} p={4}")
    @CsvSource({"5,4,3,3,0", "2,2,2,5,2", "4,4,2,3,0"})
    void largeCropsKeepTheConvolution(int h, int w, int k, int s, int p) {
        org.dpsgd.model.Shape in = new org.dpsgd.model.Shape(2, h, w);
        Network net = new Network(
                "crop",
                in,
                3,
                List.of(
                        new org.dpsgd.model.Layer.Conv2d("conv", 2, 4, k, s, p, true, false),
                        new org.dpsgd.model.Layer.Flatten(),
                        new org.dpsgd.model.Layer.Linear("fc", 4, 3, true)));
        assertNonPrivateSumEqualsTheConvolvingPath(net, TestSupport.batch(net, 4, 1, 7L * h + w, 1.0), 1e-12);
    }

    /**
     * resnet18-gn at 3×32×32 with the ImageNet stem reaches layer4 with 2×2 maps and makes them 1×1: five of
     * its convolutions take this form in the non-private step. Its float64 sum must equal the book-keeping
     * strategy's unclipped sum (every convolution a convolution, recorded) with a clip norm no example reaches.
     */
    @Test
    void nonPrivateSumEqualsTheConvolvingPath() {
        Network net = ModelZoo.build(ModelSpec.of("resnet18-gn"), org.dpsgd.model.Shape.parse("3x32x32"), 4);
        assertNonPrivateSumEqualsTheConvolvingPath(net, TestSupport.batch(net, 4, 1, 21, 1.0, 2), 1e-11);
    }

    /** The non-private float64 sum against the book-keeping strategy's unclipped one (clip norm 1e30), relative tol. */
    private static void assertNonPrivateSumEqualsTheConvolvingPath(Network net, DeviceBatch b, double tol) {
        double[] plain = new double[(int) net.parameterCount()];
        double[] conv = new double[plain.length];
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", "float64", List.of())) {
            m.accumulateUnclipped(b);
            m.drainGradientSum(plain);
        }
        try (DjlTrainableModel m = TestSupport.model(net, "auto", "float64", List.of())) {
            m.accumulateClipped(b, 1e30);
            m.drainGradientSum(conv);
        }
        double scale = 0;
        for (double v : conv) scale = Math.max(scale, Math.abs(v));
        assertTrue(scale > 0, "the gradient is not all zeros");
        for (int i = 0; i < plain.length; i++) assertEquals(conv[i], plain[i], tol * scale, "coordinate " + i);
    }

    /**
     * The microbatch strategy's batch-1 loop records nothing, so its per-example gradients go through
     * WindowConv too: its clipped float64 sum (a clip norm between the examples' norms, so some are
     * clipped and some not) must equal the book-keeping strategy's, which convolves.
     */
    @Test
    void microbatchClippedSumEqualsTheConvolvingPath() {
        Network net = ModelZoo.build(ModelSpec.of("resnet18-gn"), org.dpsgd.model.Shape.parse("3x32x32"), 4);
        DeviceBatch b = TestSupport.batch(net, 4, 1, 33, 1.0);
        double[] micro = new double[(int) net.parameterCount()];
        double[] conv = new double[micro.length];
        double clip;
        try (DjlTrainableModel m = TestSupport.model(net, "microbatch", "float64", List.of())) {
            double[] norms = m.perSampleGradientNorms(b).clone();
            java.util.Arrays.sort(norms);
            clip = (norms[1] + norms[2]) / 2; // two examples clipped, two not
            assertTrue(norms[1] < clip && clip < norms[2], java.util.Arrays.toString(norms));
            m.accumulateClipped(b, clip);
            m.drainGradientSum(micro);
        }
        try (DjlTrainableModel m = TestSupport.model(net, "auto", "float64", List.of())) {
            m.accumulateClipped(b, clip);
            m.drainGradientSum(conv);
        }
        double scale = 0;
        for (double v : conv) scale = Math.max(scale, Math.abs(v));
        assertTrue(scale > 0, "the clipped sum is not all zeros");
        for (int i = 0; i < micro.length; i++) assertEquals(conv[i], micro[i], 1e-10 * scale, "coordinate " + i);
    }

    /** {y, dx, dw, db} through WindowConv ({@code window}) or DJL's conv2d. */
    private static double[][] run(
            NDManager m,
            DataType t,
            double[] x,
            double[] wt,
            double[] b,
            double[] up,
            int n,
            int c,
            int h,
            int w,
            int o,
            int k,
            int s,
            int p,
            boolean window) {
        NDArray xa = m.create(x, new Shape(n, c, h, w)).toType(t, false);
        NDArray wa = m.create(wt, new Shape(o, c, k, k)).toType(t, false);
        NDArray ba = b == null ? null : m.create(b, new Shape(o)).toType(t, false);
        xa.setRequiresGradient(true);
        wa.setRequiresGradient(true);
        if (ba != null) ba.setRequiresGradient(true);
        double[] y = ModelRuntime.withGrad(() -> {
            NDArray out = window
                    ? WindowConv.apply(xa, wa, ba, s, p)
                    : ai.djl.nn.convolutional.Conv2d.conv2d(
                                    xa, wa, ba, new Shape(s, s), new Shape(p, p), new Shape(1, 1), 1)
                            .singletonOrThrow();
            assertEquals(new Shape(n, o, 1, 1), out.getShape());
            NDArray loss =
                    out.mul(m.create(up, out.getShape()).toType(t, false)).sum();
            JniUtils.backward((PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), t), false, false);
            return Precision.toDoubles(out);
        });
        return new double[][] {
            y,
            Precision.toDoubles(xa.getGradient()),
            Precision.toDoubles(wa.getGradient()),
            ba == null ? null : Precision.toDoubles(ba.getGradient())
        };
    }

    private static void assertClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + " length");
        double scale = 0;
        for (double v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++)
            assertEquals(want[i], got[i], tol * Math.max(1, scale), what + " at " + i);
    }

    private static double[] gaussians(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = TestSupport.gaussian(r);
        return a;
    }
}
