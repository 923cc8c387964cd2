package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ghost norm's float-error quantity M = Σ_t ‖a_t‖‖g_t‖ of a convolution (docs/core.md "Float margin" item 3),
 * which {@link Conv2dRule.Record#measure} reads off the Gram matrices' diagonals, checked directly at T' &gt; 2 in a
 * float32 model (review of r18x7, S4): one convolution on the native-rows geometry ({@code AUTO}'s SLICES choice,
 * {@link NativeConvUnfold#unfoldRows}: in·d &gt; 1024), the ghost norm forced, K copies per slot, a seeded input x
 * and a seeded output gradient r (the loss is Σ y·r, so the leaf's gradient is r exactly). M is read back through
 * {@link SlotNorms} (normSlack = γ(d + p + T'²)·M², sumSlack = γ(S·T')²·M²) and compared with Σ_t ‖a_t‖‖g_t‖
 * computed here in float64 from the unfold's definition (zero padding). The same data with g's positions paired
 * to a_t's in another order (a diagonal read in the wrong order) gives an M that this tolerance rejects, so the
 * check can see that mistake, which the NaN of an off-diagonal read does not cover. The last two geometries leave
 * kernel taps that read only padding, so M comes from the live-tap window's unfold ({@link NativeConvUnfold#liveTaps}).
 */
class ConvGhostMTest {
    /** Relative tolerance: both sides are float64 sums of the same float32 values (a few ulps of float64). */
    private static final double TOL = 1e-12;

    @ParameterizedTest(name = "in {0}, out {1}, {2}x{2}, stride {3}, K {4}")
    @CsvSource({
        "12, 5, 3, 1, 2",
        "12, 7, 4, 2, 3",
        "16, 3, 3, 1, 1",
        "12, 5, 1, 1, 3", // 1x1 input: only the centre tap is live (the windowed unfold; review of r18x8, S3)
        "12, 7, 2, 2, 3" // 2x2 input, stride 2: a 2x2 window of live taps
    })
    void mFromTheDiagonalsIsTheSumOfRowNormProducts(int in, int out, int size, int stride, int copies) {
        TestSupport.backend();
        int kernel = 3;
        int padding = 1;
        Layer.Conv2d conv = new Layer.Conv2d("c", in, out, kernel, stride, padding, false, false);
        assertEquals(
                RuleOptions.Unfold.SLICES,
                Conv2dRule.unfoldPath(conv, RuleOptions.Unfold.AUTO),
                "the geometry takes AUTO's SLICES, i.e. the native rows");
        int ho = (size + 2 * padding - kernel) / stride + 1;
        Network net = new Network("one-conv", new Shape(in, size, size), out * ho * ho, List.of(conv));
        int slots = 3;
        int rows = slots * copies;
        int tPrime = copies * ho * ho;
        assertTrue(tPrime > 2, "T' = " + tPrime);
        long d = (long) in * kernel * kernel;
        SplittableRandom r = new SplittableRandom(31L * in + out + size + copies);
        float[] init = new float[(int) net.parameterCount()];
        for (int i = 0; i < init.length; i++) init[i] = (float) TestSupport.gaussian(r);
        float[] xs = new float[rows * in * size * size];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) (TestSupport.gaussian(r) * (1 + r.nextInt(4)));
        float[] rs = new float[rows * out * ho * ho];
        for (int i = 0; i < rs.length; i++) rs[i] = (float) TestSupport.gaussian(r);
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                NDScope step = new NDScope()) {
            step.suppressNotUsedWarning();
            ParameterStore store =
                    new ParameterStore(m, Precision.FLOAT32, LossScale.NONE, net, new boolean[] {true}, init);
            store.freshLeaves(false);
            Conv2dRule.Forward op = new Conv2dRule.Forward(
                    conv,
                    store,
                    new Constants(m, Precision.FLOAT32),
                    RuleOptions.Norm.GHOST,
                    RuleOptions.Unfold.SLICES,
                    true, // AUTO's fused formation with SLICES: the ghost unfold takes the native rows
                    Conv2dRule.OneCall.NONE);
            Tape tape = new Tape(m, slots, copies);
            TapScope.run(
                    () -> ModelRuntime.withGrad(() -> {
                        NDArray x = m.create(xs, new ai.djl.ndarray.types.Shape(rows, in, size, size));
                        NDArray y = op.forward(x, tape);
                        NDArray loss = y.mul(m.create(rs, y.getShape())).sum();
                        ai.djl.pytorch.jni.JniUtils.backward(
                                (ai.djl.pytorch.engine.PtNDArray) loss,
                                (ai.djl.pytorch.engine.PtNDArray) m.ones(loss.getShape(), loss.getDataType()),
                                false,
                                false);
                        return y;
                    }),
                    () -> tape.taps().get(0).harvest());
            Tap tap = tape.taps().get(0);
            SlotNorms sn = new SlotNorms(ClipPolicy.flat(1.0), slots);
            ModelRuntime.withoutGrad(() -> {
                TapScope.run(() -> tap.measure(sn), () -> {
                    List<NDArray> keep = new ArrayList<>(tap.kept());
                    keep.addAll(sn.live());
                    return keep;
                });
                return null;
            });
            // The window is taken wherever some tap reads only padding (review of r18x8, S5: a lost window would
            // cost speed silently).
            int[] live = NativeConvUnfold.liveTaps(size, kernel, stride, padding);
            int[] window = live[1] < kernel ? new int[] {live[0], live[1], live[0], live[1]} : null;
            assertArrayEquals(window, ((Conv2dRule.Record) tap).liveWindow(), "the live-tap window");
            double normGamma = ClipBound.gamma(d + out + (long) tPrime * tPrime);
            double sumGamma = ClipBound.gamma((long) slots * tPrime);
            double[] normSlack = sn.normSlack()[0];
            double[] sumSlack = sn.sumSlack()[0];
            for (int s = 0; s < slots; s++) {
                double[] a = rowNorms(xs, s, copies, in, size, kernel, stride, padding, ho);
                double[] g = outputNorms(rs, s, copies, out, ho);
                double want = 0;
                double shifted = 0; // a_t paired with g_{t+1}: what a diagonal read out of order would give
                for (int t = 0; t < tPrime; t++) {
                    want += a[t] * g[t];
                    shifted += a[t] * g[(t + 1) % tPrime];
                }
                double fromNorm = Math.sqrt(normSlack[s] / normGamma);
                double fromSum = Math.sqrt(sumSlack[s]) / sumGamma;
                assertEquals(want, fromNorm, TOL * want, "M of slot " + s + " from the norm's slack");
                assertEquals(want, fromSum, TOL * want, "M of slot " + s + " from the clipped sum's slack");
                assertTrue(
                        Math.abs(shifted - want) > 1e3 * TOL * want,
                        "the data cannot tell a permuted diagonal: " + shifted + " vs " + want);
            }
        }
    }

    /** ‖a_t‖ for slot s's T' = K·Ho·Wo unfold rows (copy-major), from the definition with zero padding. */
    private static double[] rowNorms(
            float[] xs, int s, int copies, int in, int size, int kernel, int stride, int padding, int ho) {
        double[] out = new double[copies * ho * ho];
        int t = 0;
        for (int q = 0; q < copies; q++) {
            int n = s * copies + q;
            for (int oy = 0; oy < ho; oy++) {
                for (int ox = 0; ox < ho; ox++) {
                    double sq = 0;
                    for (int c = 0; c < in; c++) {
                        for (int i = 0; i < kernel; i++) {
                            for (int j = 0; j < kernel; j++) {
                                int yy = oy * stride + i - padding;
                                int xx = ox * stride + j - padding;
                                if (yy < 0 || yy >= size || xx < 0 || xx >= size) continue;
                                double v = xs[((n * in + c) * size + yy) * size + xx];
                                sq += v * v;
                            }
                        }
                    }
                    out[t++] = Math.sqrt(sq);
                }
            }
        }
        return out;
    }

    /** ‖g_t‖ for slot s's T' output positions (copy-major), g the seeded output gradient [S·K, p, Ho, Wo]. */
    private static double[] outputNorms(float[] rs, int s, int copies, int out, int ho) {
        double[] norms = new double[copies * ho * ho];
        int t = 0;
        for (int q = 0; q < copies; q++) {
            int n = s * copies + q;
            for (int pos = 0; pos < ho * ho; pos++) {
                double sq = 0;
                for (int p = 0; p < out; p++) {
                    double v = rs[(n * out + p) * ho * ho + pos];
                    sq += v * v;
                }
                norms[t++] = Math.sqrt(sq);
            }
        }
        return norms;
    }
}
