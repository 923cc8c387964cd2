package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link GroupNormRule#fusedAffine} and its per-row form {@link GroupNormRule#fusedRowAffine}
 * (PyTorch's inference-mode batch-norm with mean 0, variance 1, eps 0) against the composed
 * definition x̂·γ + β in float64: the output and the gradients of x̂, γ and β for a random upstream
 * gradient, computed in Java from the same values.
 */
class GroupNormFusedAffineTest {
    @ParameterizedTest(name = "N={0} C={1} HxW={2}x{3}")
    @CsvSource({"3,4,3,2", "2,8,1,1", "5,6,4,4", "1,2,2,3"})
    void equalsComposedAffineInFloat64(int n, int c, int h, int w) {
        TestSupport.backend(); // loads the engine with the project's thread settings
        SplittableRandom r = new SplittableRandom(31L * n + c);
        int per = h * w;
        double[] x = gaussians(r, n * c * per);
        double[] gamma = gaussians(r, c);
        double[] beta = gaussians(r, c);
        double[] up = gaussians(r, n * c * per);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            Constants constants = new Constants(m, Precision.FLOAT64);
            NDArray xa = m.create(x, new Shape(n, c, h, w));
            NDArray ga = m.create(gamma, new Shape(c));
            NDArray ba = m.create(beta, new Shape(c));
            xa.setRequiresGradient(true);
            ga.setRequiresGradient(true);
            ba.setRequiresGradient(true);
            double[] y = ModelRuntime.withGrad(() -> {
                NDArray out = GroupNormRule.fusedAffine(xa, ga, ba, constants);
                NDArray loss = out.mul(m.create(up, new Shape(n, c, h, w))).sum();
                JniUtils.backward(
                        (PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), DataType.FLOAT64), false, false);
                return out.toDoubleArray();
            });
            double[] gx = xa.getGradient().toDoubleArray();
            double[] gg = ga.getGradient().toDoubleArray();
            double[] gb = ba.getGradient().toDoubleArray();
            double[] wantGg = new double[c];
            double[] wantGb = new double[c];
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < per; i++) {
                        int k = (s * c + ch) * per + i;
                        assertEquals(x[k] * gamma[ch] + beta[ch], y[k], 1e-15 * (1 + Math.abs(y[k])), "y at " + k);
                        assertEquals(up[k] * gamma[ch], gx[k], 1e-15 * (1 + Math.abs(gx[k])), "dx at " + k);
                        wantGg[ch] += up[k] * x[k];
                        wantGb[ch] += up[k];
                    }
                }
            }
            for (int ch = 0; ch < c; ch++) {
                assertEquals(wantGg[ch], gg[ch], 1e-13 * (1 + Math.abs(wantGg[ch])), "dgamma at " + ch);
                assertEquals(wantGb[ch], gb[ch], 1e-13 * (1 + Math.abs(wantGb[ch])), "dbeta at " + ch);
            }
        }
    }

    /**
     * {@link GroupNormRule#fusedRowAffine}, the book-keeping form: γ and β with one row per batch row
     * (per-row leaves [N, C, 1, 1]; a frozen one stays [1, C, 1, 1] without a gradient). Output and x̂'s
     * gradient as the composed x̂·γ_n + β_n; each row's γ and β gradients are that row's own Σ_hw g·x̂ and
     * Σ_hw g, computed in Java from the same float64 values (rows with distinct γ_n, so a mixed-up row
     * would show).
     */
    @ParameterizedTest(name = "N={0} C={1} HxW={2}x{3} gammaRows={4} betaRows={5}")
    @CsvSource({
        "3,4,3,2,true,true",
        "2,8,1,1,true,true",
        "5,6,4,4,true,false",
        "4,2,2,3,false,true",
        "1,2,2,3,true,true"
    })
    void perRowFormEqualsComposedAffineInFloat64(int n, int c, int h, int w, boolean gammaRows, boolean betaRows) {
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(131L * n + 7L * c + (gammaRows ? 1 : 0) + (betaRows ? 2 : 0));
        int per = h * w;
        double[] x = gaussians(r, n * c * per);
        double[] gamma = gaussians(r, (gammaRows ? n : 1) * c);
        double[] beta = gaussians(r, (betaRows ? n : 1) * c);
        double[] up = gaussians(r, n * c * per);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            Constants constants = new Constants(m, Precision.FLOAT64);
            NDArray xa = m.create(x, new Shape(n, c, h, w));
            NDArray ga = m.create(gamma, new Shape(gammaRows ? n : 1, c, 1, 1));
            NDArray ba = m.create(beta, new Shape(betaRows ? n : 1, c, 1, 1));
            xa.setRequiresGradient(true);
            if (gammaRows) ga.setRequiresGradient(true);
            if (betaRows) ba.setRequiresGradient(true);
            double[] y = ModelRuntime.withGrad(() -> {
                NDArray out = GroupNormRule.fusedRowAffine(xa, ga, ba, constants);
                assertEquals(xa.getShape(), out.getShape());
                NDArray loss = out.mul(m.create(up, new Shape(n, c, h, w))).sum();
                JniUtils.backward(
                        (PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), DataType.FLOAT64), false, false);
                return out.toDoubleArray();
            });
            double[] gx = xa.getGradient().toDoubleArray();
            double[] gg = gammaRows ? ga.getGradient().toDoubleArray() : null;
            double[] gb = betaRows ? ba.getGradient().toDoubleArray() : null;
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < c; ch++) {
                    double gm = gamma[(gammaRows ? s * c : 0) + ch];
                    double bt = beta[(betaRows ? s * c : 0) + ch];
                    double wantGg = 0;
                    double wantGb = 0;
                    for (int i = 0; i < per; i++) {
                        int k = (s * c + ch) * per + i;
                        assertEquals(x[k] * gm + bt, y[k], 1e-15 * (1 + Math.abs(y[k])), "y at " + k);
                        assertEquals(up[k] * gm, gx[k], 1e-15 * (1 + Math.abs(gx[k])), "dx at " + k);
                        wantGg += up[k] * x[k];
                        wantGb += up[k];
                    }
                    int row = s * c + ch;
                    if (gammaRows) assertEquals(wantGg, gg[row], 1e-13 * (1 + Math.abs(wantGg)), "dgamma at " + row);
                    if (betaRows) assertEquals(wantGb, gb[row], 1e-13 * (1 + Math.abs(wantGb)), "dbeta at " + row);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"FLOAT32", "FLOAT64", "FLOAT16"})
    void fusedInFloat32AndFloat64Only(String type) {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            Precision p = Precision.valueOf(type);
            Constants constants = new Constants(m, p);
            NDArray x = m.ones(new Shape(2, 3, 2, 2), p.type);
            NDArray out = GroupNormRule.fusedAffine(
                    x, m.full(new Shape(3), 2, p.type), m.full(new Shape(3), 0.5f, p.type), constants);
            if (p.mixed()) {
                assertTrue(out == null, "16-bit types keep the composed affine");
                return;
            }
            assertTrue(out != null && out.getDataType() == p.type, "fused affine returned " + out);
            for (double v : Precision.toDoubles(out)) assertEquals(2.5, v);
        }
    }

    private static double[] gaussians(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = TestSupport.gaussian(r);
        return a;
    }
}
