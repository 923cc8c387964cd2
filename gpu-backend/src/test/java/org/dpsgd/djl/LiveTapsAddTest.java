package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The in-place add of a live-tap window's clipped sum into the weight's accumulator (review of r18x8, S4), over more
 * geometries than {@link LiveTapsTest}: strides 1–3, paddings 1 to k−1, kernels 2–5, non-square maps whose two axes
 * keep different windows (a 1×2 map under a 3×3 kernel with stride 2 keeps rows {1} and columns {1, 2}). Checked:
 * {@link NativeConvUnfold#addToTaps} against a Java loop over the definition, several adds without a drain, bit for
 * bit (each is one float64 addition per coordinate); and whole models over three calls without a drain, ghost and
 * mixed norms, K = 1 and 2, against the same model on the whole rows (no window, {@code Conv2dRule.liveTaps} off) and
 * against the batch-size-1 loop in float64.
 */
class LiveTapsAddTest {
    /** Relative tolerance of the windowed sum against the whole rows: the same float64 products, blocked otherwise. */
    private static final double WHOLE_ROWS_TOL = 1e-12;

    /** Seeded geometries whose live taps leave some out, plus the review's 1×2 stride-2 case; label, in, k, s, p, h, w. */
    static List<LiveTapsTest.Geometry> geometries() {
        List<LiveTapsTest.Geometry> out = new ArrayList<>();
        out.add(new LiveTapsTest.Geometry("k3 s2 p1 @1x2 (rows {1}, columns {1,2})", 12, 5, 3, 2, 1, 1, 2));
        out.add(new LiveTapsTest.Geometry("k3 s1 p1 @3x1 (columns only)", 12, 4, 3, 1, 1, 3, 1));
        SplittableRandom r = new SplittableRandom(2412);
        while (out.size() < 10) {
            int k = 2 + r.nextInt(4);
            int s = 1 + r.nextInt(3);
            int p = 1 + r.nextInt(k - 1);
            int h = 1 + r.nextInt(4);
            int w = 1 + r.nextInt(4);
            if (h + 2 * p < k || w + 2 * p < k) continue;
            int[] a = NativeConvUnfold.liveTaps(h, k, s, p);
            int[] b = NativeConvUnfold.liveTaps(w, k, s, p);
            if (a[1] == k && b[1] == k) continue; // every tap live: no window
            if (!readsInput(h, k, s, p) || !readsInput(w, k, s, p)) continue; // an all-zero output teaches nothing
            // in·in·k² > 1024: AUTO unfolds by the native rows.
            int in = (int) Math.floor(Math.sqrt(1024.0 / (k * k))) + 1;
            String label = "k" + k + " s" + s + " p" + p + " @" + h + "x" + w;
            out.add(new LiveTapsTest.Geometry(label, in, 3 + r.nextInt(3), k, s, p, h, w));
        }
        return out;
    }

    /** Whether some tap reads the input at some output position along an axis of {@code size}, by brute force. */
    private static boolean readsInput(int size, int k, int s, int p) {
        int out = (size + 2 * p - k) / s + 1;
        for (int o = 0; o < out; o++)
            for (int i = 0; i < k; i++) if (o * s + i - p >= 0 && o * s + i - p < size) return true;
        return false;
    }

    /** Each window's sum added three times into a seeded accumulator equals the Java loop's, bit for bit. */
    @Test
    void addToTapsAddsEachWindowColumnIntoItsTap() {
        TestSupport.backend();
        SplittableRandom r = new SplittableRandom(99);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            for (LiveTapsTest.Geometry g : geometries()) {
                int[] win = g.window();
                int k = g.kernel();
                int c = g.in();
                int p = g.out();
                double[] acc = new double[p * c * k * k];
                for (int i = 0; i < acc.length; i++) acc[i] = TestSupport.gaussian(r);
                NDArray accNd = m.create(acc.clone(), new ai.djl.ndarray.types.Shape(p, c, k, k));
                int cols = c * win[1] * win[3];
                for (int call = 0; call < 3; call++) {
                    double[] sum = new double[p * cols];
                    for (int i = 0; i < sum.length; i++) sum[i] = TestSupport.gaussian(r) * (1 + call);
                    u.addToTaps(accNd, m.create(sum, new ai.djl.ndarray.types.Shape(p, cols)), win);
                    for (int o = 0; o < p; o++)
                        for (int ch = 0; ch < c; ch++)
                            for (int i = 0; i < win[1]; i++)
                                for (int j = 0; j < win[3]; j++)
                                    acc[((o * c + ch) * k + win[0] + i) * k + win[2] + j] +=
                                            sum[o * cols + (ch * win[1] + i) * win[3] + j];
                }
                double[] got = accNd.toDoubleArray();
                for (int i = 0; i < acc.length; i++) assertEquals(acc[i], got[i], 0.0, g.label() + " coordinate " + i);
            }
        }
    }

    static Stream<Arguments> calls() {
        List<Arguments> out = new ArrayList<>();
        for (LiveTapsTest.Geometry g : geometries())
            for (RuleOptions.Norm n : new RuleOptions.Norm[] {RuleOptions.Norm.GHOST, RuleOptions.Norm.MIXED})
                for (int k = 1; k <= 2; k++) {
                    Layer.Conv2d conv = (Layer.Conv2d) g.net().layers().get(0);
                    org.dpsgd.model.Shape y = conv.outputShape(new org.dpsgd.model.Shape(g.in(), g.h(), g.w()));
                    long positions = (long) k * y.size() / g.out();
                    long d = (long) g.in() * g.kernel() * g.kernel();
                    // MIXED only where it takes the ghost norm (float64: 2T'² ≤ p·d), so the window is used.
                    if (n == RuleOptions.Norm.MIXED && !Conv2dRule.useGhost(n, positions, g.out(), d, false, 8))
                        continue;
                    out.add(Arguments.of(g, n, k));
                }
        return out.stream();
    }

    /**
     * Three calls without a drain (the first into the fresh zeros after the drain, the next two add in place): the windowed sum
     * equals the whole rows' to {@link #WHOLE_ROWS_TOL} and the batch-size-1 loop's to {@link RuleHarness#TOL}.
     */
    @ParameterizedTest(name = "{0} norm={1} K={2}")
    @MethodSource("calls")
    void callsWithoutADrainEqualTheWholeRowsAndTheLoop(LiveTapsTest.Geometry g, RuleOptions.Norm norm, int copies) {
        Network net = g.net();
        Layer.Conv2d conv = (Layer.Conv2d) net.layers().get(0);
        assertEquals(RuleOptions.Unfold.SLICES, Conv2dRule.unfoldPath(conv, RuleOptions.Unfold.AUTO), g.label());
        int[] win = g.window();
        assertTrue(win[1] * win[3] < g.kernel() * g.kernel(), "the geometry leaves taps out");
        ClipPolicy policy = ClipPolicy.flat(0.05);
        double[][] sums = new double[2][];
        double[] want;
        try (DjlTrainableModel reference =
                TestSupport.model(net, "microbatch", "float64", List.of(), RuleOptions.DEFAULT)) {
            for (int call = 0; call < 3; call++) reference.accumulateClipped(batch(net, call, copies), policy);
            want = reference.gradientSum64();
        }
        for (int live = 0; live < 2; live++) {
            Conv2dRule.liveTaps = live == 1;
            try (DjlTrainableModel rule = TestSupport.model(
                    net, "bookkeeping", "float64", List.of(), new RuleOptions(norm, RuleOptions.Unfold.AUTO))) {
                for (int call = 0; call < 3; call++) rule.accumulateClipped(batch(net, call, copies), policy);
                sums[live] = rule.gradientSum64();
            } finally {
                Conv2dRule.liveTaps = true;
            }
        }
        double den = norm2(want, null);
        assertTrue(den > 0, "the reference sum is zero");
        double wholeErr = norm2(sums[1], sums[0]) / norm2(sums[0], null);
        assertTrue(wholeErr <= WHOLE_ROWS_TOL, "against the whole rows: relative error " + wholeErr);
        double loopErr = norm2(sums[1], want) / den;
        assertTrue(loopErr <= RuleHarness.TOL, "against the batch-size-1 loop: relative error " + loopErr);
    }

    private static DeviceBatch batch(Network net, int call, int copies) {
        return TestSupport.batch(net, 3 + call, copies, 300 + call, 1.0);
    }

    /** ‖a − b‖ (‖a‖ for b null). */
    private static double norm2(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double v = b == null ? a[i] : a[i] - b[i];
            s += v * v;
        }
        return Math.sqrt(s);
    }
}
