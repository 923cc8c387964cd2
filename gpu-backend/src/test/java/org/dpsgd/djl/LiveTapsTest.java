package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ghost path's live kernel taps (issue 12 §1): on the native rows ({@code AUTO}'s SLICES), a convolution whose
 * kernel taps partly read only the zero padding at every output position (resnet18-gn's layer4 at 3x32x32: a 3x3
 * kernel with padding 1 over a 1x1 input) unfolds only the taps that read the input ({@link
 * NativeConvUnfold#liveTaps}) for its Gram matrix, M and clipped sum, and adds the sum into those taps of the accumulator. Checked: the
 * live taps against a brute-force scan of the definition; the windowed rows against the whole rows (the window's
 * columns bit for bit, every other column exactly 0); and each geometry's norms and clipped sum against the
 * batch-size-1 loop in float64 ({@link RuleHarness}), with the unfold kept from the norms to the sum and unfolded
 * afresh, under ghost and mixed norms, K = 1 and 2.
 */
class LiveTapsTest {
    /** A conv of {@code in} channels on an h×w input, then tanh, flatten and a linear head to 3 classes. */
    record Geometry(String label, int in, int out, int kernel, int stride, int padding, int h, int w) {
        Network net() {
            Layer.Conv2d conv = new Layer.Conv2d("conv", in, out, kernel, stride, padding, true, false);
            Shape input = new Shape(in, h, w);
            Shape mid = conv.outputShape(input);
            return new Network(
                    label,
                    input,
                    3,
                    List.of(
                            conv,
                            new Layer.Activation(Layer.ActivationKind.TANH),
                            new Layer.Flatten(),
                            new Layer.Linear("head", mid.size(), 3, true)));
        }

        int[] window() {
            int[] r = NativeConvUnfold.liveTaps(h, kernel, stride, padding);
            int[] c = NativeConvUnfold.liveTaps(w, kernel, stride, padding);
            return new int[] {r[0], r[1], c[0], c[1]};
        }
    }

    /** in = 12 channels: in·d = 1296 > 1024, so AUTO unfolds by the native rows. Every one leaves taps out. */
    static final List<Geometry> GEOMETRIES = List.of(
            new Geometry("k3 s1 p1 @1x1 (layer4)", 12, 6, 3, 1, 1, 1, 1),
            new Geometry("k3 s2 p1 @2x2 (layer4.0.conv1)", 12, 6, 3, 2, 1, 2, 2),
            new Geometry("k3 s1 p1 @1x3 (rows only)", 12, 5, 3, 1, 1, 1, 3),
            new Geometry("k5 s1 p2 @2x2", 12, 4, 5, 1, 2, 2, 2));

    @Test
    void liveTapsAreTheHullOfTheTapsThatReadTheInput() {
        SplittableRandom r = new SplittableRandom(7);
        for (int n = 0; n < 2000; n++) {
            int kernel = 1 + r.nextInt(7);
            int stride = 1 + r.nextInt(4);
            int padding = r.nextInt(kernel + 1);
            int size = 1 + r.nextInt(9);
            long out = (size + 2L * padding - kernel) / stride + 1;
            if (size + 2 * padding < kernel) continue;
            int first = -1;
            int last = -1;
            for (int i = 0; i < kernel; i++)
                for (long o = 0; o < out; o++) {
                    long y = o * stride + i - padding;
                    if (y >= 0 && y < size) {
                        if (first < 0) first = i;
                        last = i;
                    }
                }
            String g = "size " + size + " kernel " + kernel + " stride " + stride + " padding " + padding;
            if (first < 0) { // every window in padding: the whole kernel, all of it zero columns
                assertArrayEquals(new int[] {0, kernel}, NativeConvUnfold.liveTaps(size, kernel, stride, padding), g);
                continue;
            }
            assertArrayEquals(
                    new int[] {first, last - first + 1}, NativeConvUnfold.liveTaps(size, kernel, stride, padding), g);
        }
        assertArrayEquals(new int[] {1, 1}, NativeConvUnfold.liveTaps(1, 3, 1, 1), "layer4: the centre tap only");
        assertArrayEquals(new int[] {0, 3}, NativeConvUnfold.liveTaps(4, 3, 1, 1), "a 4x4 input reads every tap");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void theWindowHoldsEveryColumnThatIsNotZero(Geometry g) {
        TestSupport.backend();
        int slots = 3;
        int copies = 2;
        int[] win = g.window();
        assertTrue(win[1] * win[3] < g.kernel() * g.kernel(), "the geometry leaves taps out");
        double[] x = new double[slots * copies * g.in() * g.h() * g.w()];
        SplittableRandom r = new SplittableRandom(g.label().hashCode());
        for (int i = 0; i < x.length; i++) x[i] = TestSupport.gaussian(r) + 3; // never 0
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            for (DataType type : new DataType[] {DataType.FLOAT64, DataType.FLOAT32}) {
                NDArray xs = m.create(x, new ai.djl.ndarray.types.Shape(slots * copies, g.in(), g.h(), g.w()))
                        .toType(type, false);
                NDArray whole = u.unfoldRows(xs, g.kernel(), g.stride(), g.padding(), copies);
                NDArray live = u.unfoldRows(xs, g.kernel(), g.stride(), g.padding(), copies, win);
                long rows = whole.getShape().get(0) * whole.getShape().get(1);
                int k = g.kernel();
                int d = g.in() * k * k;
                int dLive = g.in() * win[1] * win[3];
                assertEquals(rows * dLive, live.size(), type + " windowed size");
                double[] a = whole.toType(DataType.FLOAT64, false).toDoubleArray();
                double[] b = live.toType(DataType.FLOAT64, false).toDoubleArray();
                for (long row = 0; row < rows; row++) {
                    for (int c = 0; c < g.in(); c++)
                        for (int i = 0; i < k; i++)
                            for (int j = 0; j < k; j++) {
                                double v = a[(int) (row * d + (c * k + i) * k + j)];
                                boolean in = i >= win[0] && i < win[0] + win[1] && j >= win[2] && j < win[2] + win[3];
                                if (!in) {
                                    assertEquals(0.0, v, 0.0, type + " a column left out is not zero");
                                    continue;
                                }
                                int col = (c * win[1] + i - win[0]) * win[3] + j - win[2];
                                assertEquals(v, b[(int) (row * dLive + col)], 0.0, type + " window column");
                            }
                }
            }
        }
    }

    static Stream<Geometry> geometries() {
        return GEOMETRIES.stream();
    }

    static Stream<Arguments> paths() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(2026);
        for (Geometry g : GEOMETRIES)
            for (RuleOptions.Norm n : new RuleOptions.Norm[] {RuleOptions.Norm.GHOST, RuleOptions.Norm.MIXED})
                for (int k = 1; k <= 2; k++)
                    for (boolean afresh : new boolean[] {false, true}) {
                        RuleHarness.Groups groups =
                                RuleHarness.Groups.values()[r.nextInt(RuleHarness.Groups.values().length)];
                        out.add(Arguments.of(g, n, k, afresh, groups, r.nextLong()));
                    }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} norm={1} K={2} afresh={3} {4}")
    @MethodSource("paths")
    void equalsTheBatchSizeOneLoop(
            Geometry g, RuleOptions.Norm norm, int copies, boolean afresh, RuleHarness.Groups groups, long seed) {
        Layer.Conv2d conv = (Layer.Conv2d) g.net().layers().get(0);
        assertEquals(RuleOptions.Unfold.SLICES, Conv2dRule.unfoldPath(conv, RuleOptions.Unfold.AUTO));
        long kept = Conv2dRule.keepUnfoldBytes;
        if (afresh) Conv2dRule.keepUnfoldBytes = 0;
        try {
            RuleHarness.assertMatchesBatchSizeOneLoop(new RuleHarness.Check(
                    g.net(), new RuleOptions(norm, RuleOptions.Unfold.AUTO), copies, List.of(), groups, seed));
        } finally {
            Conv2dRule.keepUnfoldBytes = kept;
        }
    }

    /**
     * The live taps' sum is added into the accumulator in place: over three calls without a drain (the other taps
     * untouched, the live ones summed), the float64 sum equals the batch-size-1 loop's, to {@link RuleHarness#TOL}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("geometries")
    void callsAddUp(Geometry g) {
        Network net = g.net();
        org.dpsgd.backend.ClipPolicy policy = org.dpsgd.backend.ClipPolicy.flat(0.05);
        try (DjlTrainableModel reference =
                        TestSupport.model(net, "microbatch", "float64", List.of(), RuleOptions.DEFAULT);
                DjlTrainableModel rule = TestSupport.model(
                        net,
                        "bookkeeping",
                        "float64",
                        List.of(),
                        new RuleOptions(RuleOptions.Norm.GHOST, RuleOptions.Unfold.AUTO))) {
            for (int call = 0; call < 3; call++) {
                org.dpsgd.backend.DeviceBatch b = TestSupport.batch(net, 4, 1 + call % 2, 100 + call, 1.0);
                reference.accumulateClipped(b, policy);
                rule.accumulateClipped(b, policy);
            }
            double[] want = reference.gradientSum64();
            double[] got = rule.gradientSum64();
            double num = 0;
            double den = 0;
            for (int i = 0; i < want.length; i++) {
                num += (got[i] - want[i]) * (got[i] - want[i]);
                den += want[i] * want[i];
            }
            assertTrue(den > 0, "the reference sum is zero");
            assertTrue(Math.sqrt(num) <= RuleHarness.TOL * Math.sqrt(den), "relative error " + Math.sqrt(num / den));
        }
    }

    /**
     * A legal conv whose every window lies in the padding (1x1 kernel, stride 2, padding 1 on a 1x1 input; 40
     * channels, so AUTO takes the native rows and MIXED the ghost norm) keeps its whole, all-zero kernel (review of
     * r18x8, S1: it was refused): the step runs, the conv's sums are exactly zero, and the sum equals the one taken
     * without live taps.
     */
    @Test
    void aKernelThatReadsOnlyPaddingKeepsItsWholeWindow() {
        Geometry g = new Geometry("k1 s2 p1 @1x1 (every tap in padding)", 40, 4, 1, 2, 1, 1, 1);
        Network net = g.net();
        Layer.Conv2d conv = (Layer.Conv2d) net.layers().get(0);
        assertEquals(RuleOptions.Unfold.SLICES, Conv2dRule.unfoldPath(conv, RuleOptions.Unfold.AUTO));
        double[][] sums = new double[2][];
        for (int live = 0; live < 2; live++) {
            Conv2dRule.liveTaps = live == 1;
            try (DjlTrainableModel m = TestSupport.model(
                    net,
                    "bookkeeping",
                    "float32",
                    List.of(),
                    new RuleOptions(RuleOptions.Norm.MIXED, RuleOptions.Unfold.AUTO))) {
                m.accumulateClipped(TestSupport.batch(net, 4, 1, 100, 1.0), org.dpsgd.backend.ClipPolicy.flat(1.0));
                sums[live] = m.gradientSum64();
            } finally {
                Conv2dRule.liveTaps = true;
            }
        }
        int convParams = 40 * 4 + 4;
        for (int i = 0; i < convParams - 4; i++) assertEquals(0.0, sums[1][i], 0.0, "conv weight " + i);
        assertArrayEquals(sums[0], sums[1], 1e-12, "with and without live taps");
    }
}
