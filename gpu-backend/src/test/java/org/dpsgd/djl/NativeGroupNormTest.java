package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * {@link NativeGroupNorm} (PyTorch's group_norm kernel through TorchScript) against the GroupNorm
 * definition computed in Java in float64: the output and the gradients of x, γ and β for a random
 * upstream gradient; and, through a whole network, the non-private gradient sum (native kernel)
 * against the book-keeping strategy's unclipped sum (composed layer-norm and affine, recorded).
 */
class NativeGroupNormTest {
    @ParameterizedTest(name = "N={0} C={1} G={2} HxW={3}x{4} eps={5} {6}")
    @CsvSource({
        "3,4,2,3,2,1e-5,FLOAT64,1e-12",
        "2,8,8,1,1,1e-5,FLOAT64,1e-12", // one channel per group, one pixel: x̂ = 0
        "1,6,1,4,4,1e-5,FLOAT64,1e-12",
        "4,12,3,2,5,0.25,FLOAT64,1e-12", // eps large against the variance: must be used exactly
        "5,32,8,4,4,1e-5,FLOAT32,2e-5",
        "2,6,3,3,3,0.25,FLOAT32,2e-5",
        // small maps (H·W <= 4): the layer-norm form
        "3,8,4,2,2,1e-5,FLOAT64,1e-12",
        "4,16,4,1,1,1e-5,FLOAT64,1e-12", // 4 channels of one value per group
        "2,12,3,1,3,0.25,FLOAT64,1e-12",
        "3,6,2,4,1,1e-5,FLOAT64,1e-12",
        "6,512,32,1,1,1e-5,FLOAT32,2e-5", // resnet18-gn's layer4 at 3x32x32 (two values per group would be
        // ill-conditioned in float32 for either form)
        "4,256,32,2,2,1e-5,FLOAT32,2e-5" // its layer3
    })
    void equalsTheDefinition(int n, int c, int g, int h, int w, double eps, String type, double tol) {
        TestSupport.backend(); // loads the engine with the project's thread settings
        DataType t = DataType.valueOf(type);
        SplittableRandom r = new SplittableRandom(1000L * n + 10L * c + g);
        int hw = h * w;
        double scale = eps > 0.1 ? 0.3 : 2.0; // with eps 0.25 the variance is of the same order
        double[] x = gaussians(r, n * c * hw, scale, 1.5); // non-zero mean
        double[] gamma = gaussians(r, c, 1, 0);
        double[] beta = gaussians(r, c, 1, 0);
        double[] up = gaussians(r, n * c * hw, 1, 0);
        if (t == DataType.FLOAT32) { // the oracle gets exactly the values the kernel sees
            round(x);
            round(gamma);
            round(beta);
            round(up);
        }
        double[][] want = definition(x, gamma, beta, up, n, c, g, hw, eps);
        // Both forms on every geometry: the fused kernel (small maps off) and the layer-norm form (every map small).
        for (int smallMap : new int[] {0, Integer.MAX_VALUE}) {
            NativeGroupNorm.smallMap = smallMap;
            String form = smallMap == 0 ? "fused " : "layer-norm form ";
            try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
                NativeGroupNorm gn = new NativeGroupNorm(m);
                NDArray xa = m.create(x, new Shape(n, c, h, w)).toType(t, false);
                NDArray ga = m.create(gamma, new Shape(c)).toType(t, false);
                NDArray ba = m.create(beta, new Shape(c)).toType(t, false);
                NDArray ua = m.create(up, new Shape(n, c, h, w)).toType(t, false);
                xa.setRequiresGradient(true);
                ga.setRequiresGradient(true);
                ba.setRequiresGradient(true);
                double[] y = ModelRuntime.withGrad(() -> {
                    NDArray out = gn.apply(xa, g, eps, ga, ba);
                    assertEquals(t, out.getDataType());
                    NDArray loss = out.mul(ua).sum();
                    JniUtils.backward((PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), t), false, false);
                    return Precision.toDoubles(out);
                });
                assertClose(want[0], y, tol, form + "y");
                assertClose(want[1], Precision.toDoubles(xa.getGradient()), tol, form + "dx");
                assertClose(want[2], Precision.toDoubles(ga.getGradient()), tol, form + "dgamma");
                assertClose(want[3], Precision.toDoubles(ba.getGradient()), tol, form + "dbeta");
            } finally {
                NativeGroupNorm.smallMap = 4;
            }
        }
    }

    /** The small-map form refuses a group count that does not divide the channels, as the fused kernel does. */
    @Test
    void smallMapsRefuseGroupsThatDoNotDivideTheChannels() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray x = m.ones(new Shape(2, 6, 2, 1));
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> new NativeGroupNorm(m).apply(x, 4, 1e-5, m.ones(new Shape(6)), m.zeros(new Shape(6))));
            assertTrue(e.getMessage().contains("not divisible by 4 groups"), e.getMessage());
        }
    }

    @Test
    void sixteenBitTypesKeepTheComposedForm() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            DataType t = DataType.FLOAT16;
            NDArray x = m.ones(new Shape(2, 4, 2, 2), t);
            assertNull(new NativeGroupNorm(m).apply(x, 2, 1e-5, m.ones(new Shape(4), t), m.zeros(new Shape(4), t)));
        }
    }

    @Test
    void sourceKeepsTheExactEpsAndRefusesBadArguments() {
        double eps = 1e-5;
        String src = NativeGroupNorm.source(32, eps, false);
        String literal = src.substring(src.indexOf("bias, ") + 6, src.indexOf(", False)"));
        assertEquals(eps, Double.parseDouble(literal)); // bit for bit
        assertTrue(src.contains("torch.group_norm(x, 32, weight, bias, "), src);
        String small = NativeGroupNorm.source(32, eps, true);
        String smallLiteral = small.substring(small.indexOf("None, None, ") + 12, small.indexOf(", False)"));
        assertEquals(eps, Double.parseDouble(smallLiteral));
        assertTrue(small.contains("torch.reshape(x, [n, 32, -1])"), small);
        for (boolean s : new boolean[] {false, true}) {
            assertThrows(IllegalArgumentException.class, () -> NativeGroupNorm.source(0, eps, s));
            assertThrows(IllegalArgumentException.class, () -> NativeGroupNorm.source(2, Double.NaN, s));
            assertThrows(IllegalArgumentException.class, () -> NativeGroupNorm.source(2, -1e-5, s));
        }
    }

    /**
     * The non-private step (native GroupNorm, nothing recorded) against the book-keeping strategy with a
     * clip norm no example reaches (every factor exactly 1; its GroupNorms are the composed, recorded
     * form): the same gradient sum in float64.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"small-cnn,1x12x12", "resnet18-gn,3x16x16"})
    void nonPrivateSumEqualsTheComposedPath(String model, String input) {
        ModelSpec spec = model.startsWith("resnet") ? ModelSpec.of(model).withStem("cifar") : ModelSpec.of(model);
        Network net = ModelZoo.build(spec, org.dpsgd.model.Shape.parse(input), 4);
        DeviceBatch b = TestSupport.batch(net, 5, 1, 11, 1.0, 3);
        double[] plain = new double[(int) net.parameterCount()];
        double[] composed = new double[plain.length];
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", "float64", List.of())) {
            m.accumulateUnclipped(b);
            m.drainGradientSum(plain);
        }
        try (DjlTrainableModel m = TestSupport.model(net, "auto", "float64", List.of())) {
            m.accumulateClipped(b, 1e30);
            m.drainGradientSum(composed);
        }
        double scale = 0;
        for (double v : composed) scale = Math.max(scale, Math.abs(v));
        assertTrue(scale > 0, "the gradient is not all zeros");
        for (int i = 0; i < plain.length; i++) {
            assertEquals(composed[i], plain[i], 1e-11 * scale, "coordinate " + i);
        }
    }

    /** {y, dx, dγ, dβ} of y = (x − μ)/sqrt(σ² + eps)·γ + β per sample and group, for upstream gradient {@code up}. */
    static double[][] definition(
            double[] x, double[] gamma, double[] beta, double[] up, int n, int c, int g, int hw, double eps) {
        int per = c / g * hw;
        double[] y = new double[x.length];
        double[] dx = new double[x.length];
        double[] dg = new double[c];
        double[] db = new double[c];
        for (int s = 0; s < n; s++) {
            for (int grp = 0; grp < g; grp++) {
                int base = (s * c + grp * (c / g)) * hw;
                double mean = 0;
                for (int i = 0; i < per; i++) mean += x[base + i];
                mean /= per;
                double var = 0;
                for (int i = 0; i < per; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
                var /= per;
                double rstd = 1 / Math.sqrt(var + eps);
                double[] xhat = new double[per];
                double[] dxhat = new double[per];
                double meanD = 0;
                double meanDx = 0;
                for (int i = 0; i < per; i++) {
                    int ch = grp * (c / g) + i / hw;
                    int k = base + i;
                    xhat[i] = (x[k] - mean) * rstd;
                    y[k] = xhat[i] * gamma[ch] + beta[ch];
                    dg[ch] += up[k] * xhat[i];
                    db[ch] += up[k];
                    dxhat[i] = up[k] * gamma[ch];
                    meanD += dxhat[i];
                    meanDx += dxhat[i] * xhat[i];
                }
                meanD /= per;
                meanDx /= per;
                for (int i = 0; i < per; i++) dx[base + i] = rstd * (dxhat[i] - meanD - xhat[i] * meanDx);
            }
        }
        return new double[][] {y, dx, dg, db};
    }

    private static void assertClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what + " length");
        double scale = 0;
        for (double v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, scale), what + " at " + i);
        }
    }

    private static double[] gaussians(SplittableRandom r, int n, double scale, double mean) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = mean + scale * TestSupport.gaussian(r);
        return a;
    }

    private static void round(double[] a) {
        for (int i = 0; i < a.length; i++) a[i] = (float) a[i];
    }
}
