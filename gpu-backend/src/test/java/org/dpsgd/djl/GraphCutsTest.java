package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Layer.ActivationKind;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graph cuts (setting graph_cuts, {@link GraphCuts}) change only the autograd graph's book-keeping: a
 * book-keeping step with cuts gives the per-sample norms, the statistics and the clipped sum of the same
 * step with zero leaves, bit for bit (the same gradient tensors reach the same leaves), on chains of conv,
 * GroupNorm, linear and parameter-free layers, with padding slots, K > 1 copies, a loss scale, 16-bit
 * compute where the engine has it, per-layer clipping and a non-finite slot. A chain is really cut
 * (counted), and a residual network is not.
 */
class GraphCutsTest {
    /**
     * One comparison: {@code cuts} is how many cuts one step of the chain makes (tapped outputs after the
     * first leaf); {@code nonFinite} poisons one real slot's input with NaN.
     */
    record Case(
            String label,
            Network net,
            String precision,
            int copies,
            long lossScale,
            boolean perLayer,
            boolean nonFinite,
            int cuts) {
        @Override
        public String toString() {
            return label;
        }
    }

    /** conv (bias) → GN → ReLU → pool → conv (weight-standardised, no bias) → GN → tanh → flatten → linear → ReLU → linear. */
    static Network convGnLinear() {
        Shape in = Shape.parse("2x8x8");
        List<Layer> ls = new ArrayList<>();
        ls.add(new Layer.Conv2d("c1", 2, 4, 3, 1, 1, true, false));
        ls.add(new Layer.GroupNorm("g1", 4, 2, 1e-5));
        ls.add(new Layer.Activation(ActivationKind.RELU));
        ls.add(new Layer.MaxPool2d(2, 2, 0));
        ls.add(new Layer.Conv2d("c2", 4, 6, 3, 1, 1, false, true));
        ls.add(new Layer.GroupNorm("g2", 6, 3, 1e-5));
        ls.add(new Layer.Activation(ActivationKind.TANH));
        ls.add(new Layer.Flatten());
        int flat = Network.outputShape(ls, in).size();
        ls.add(new Layer.Linear("l1", flat, 7, true));
        ls.add(new Layer.Activation(ActivationKind.RELU));
        ls.add(new Layer.Linear("l2", 7, 5, false));
        return new Network("conv-gn-linear", in, 5, ls);
    }

    /** A GroupNorm first (its per-row leaves are the pass's first leaves), so even the first conv is cut. */
    static Network gnFirst() {
        Shape in = Shape.parse("4x6x6");
        List<Layer> ls = new ArrayList<>();
        ls.add(new Layer.GroupNorm("g0", 4, 2, 1e-5));
        ls.add(new Layer.Conv2d("c1", 4, 4, 3, 2, 1, true, false));
        ls.add(new Layer.Activation(ActivationKind.RELU));
        ls.add(new Layer.GlobalAvgPool());
        ls.add(new Layer.Flatten());
        ls.add(new Layer.Linear("l1", 4, 3, true));
        return new Network("gn-first", in, 3, ls);
    }

    static Stream<Arguments> cases() {
        Network small = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x16x16"), 10);
        Network cgl = convGnLinear();
        Network gn = gnFirst();
        List<Case> cs = new ArrayList<>();
        // small-cnn: conv1 is the first leaf (no cut), conv2 and fc are cut.
        cs.add(new Case("small-cnn fp32", small, "float32", 1, 1, false, false, 2));
        cs.add(new Case("small-cnn fp64 K=2 per-layer", small, "float64", 2, 1, true, false, 2));
        cs.add(new Case("small-cnn fp32 loss scale 1024", small, "float32", 1, 1024, false, false, 2));
        cs.add(new Case("small-cnn fp32 NaN slot", small, "float32", 1, 1, false, true, 2));
        cs.add(new Case("small-cnn fp16", small, "fp16", 1, 0, false, false, 2));
        cs.add(new Case("small-cnn bf16 K=2", small, "bf16", 2, 0, true, false, 2));
        cs.add(new Case("conv-gn-linear fp32", cgl, "float32", 1, 1, false, false, 3));
        cs.add(new Case("conv-gn-linear fp32 K=3 per-layer scale 64", cgl, "float32", 3, 64, true, false, 3));
        cs.add(new Case("conv-gn-linear fp64 NaN slot", cgl, "float64", 2, 1, true, true, 3));
        cs.add(new Case("gn-first fp32 K=2", gn, "float32", 2, 1, false, false, 2));
        cs.add(new Case("gn-first fp64 per-layer", gn, "float64", 1, 1, true, false, 2));
        return cs.stream().map(Arguments::of);
    }

    /** Everything a step reports, as bits: norms, statistics, the drained sum; and the cuts it made. */
    private record Step(List<long[]> bits, long cuts) {}

    private static Step step(Case c, boolean cut) {
        Map<String, String> settings = c.lossScale() == 0
                ? Map.of("precision", c.precision(), "seed", "7")
                : Map.of("precision", c.precision(), "seed", "7", "loss_scale", Long.toString(c.lossScale()));
        Network net = c.net();
        int n = Math.toIntExact(net.parameterCount());
        List<long[]> out = new ArrayList<>();
        long before = Tape.CUTS_MADE.get();
        try (DjlTrainableModel m = TestSupport.model(net, "bookkeeping", settings, List.of())) {
            m.runtime().graphCuts = cut;
            int slots = 6;
            DeviceBatch b = TestSupport.batch(net, slots, c.copies(), 41, 1.0, 2);
            if (c.nonFinite()) b.inputs()[b.inputOffset(4, 0) + 3] = Float.NaN;
            double[] norms = m.perSampleGradientNorms(b);
            out.add(bits(norms));
            ClipPolicy policy = c.perLayer() ? perLayer(net, norms) : ClipPolicy.flat(clipBetween(norms, b));
            BatchStats s = m.accumulateClipped(b, policy);
            out.add(new long[] {
                s.samples(),
                Double.doubleToLongBits(s.lossSum()),
                s.correct(),
                s.clipped(),
                Double.doubleToLongBits(s.normSum()),
                s.nonFinite()
            });
            double[] sum = new double[n];
            m.drainGradientSum(sum);
            out.add(bits(sum));
            if (c.nonFinite()) assertEquals(1, s.nonFinite(), c + ": the poisoned slot is non-finite");
            assertTrue(nonZero(sum), c + ": the clipped sum is not all zero");
        }
        return new Step(out, Tape.CUTS_MADE.get() - before);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aCutStepIsTheZeroLeafStepBitForBit(Case c) {
        assumeTrue(
                c.precision().startsWith("float") || TestSupport.supports(c.precision()),
                c.precision() + " is not available on this engine");
        assertTrue(GraphCuts.isChain(c.net()), c + " is a chain");
        Step leaves = step(c, false);
        Step cuts = step(c, true);
        assertEquals(0, leaves.cuts(), c + ": graph_cuts off makes no cut");
        // Two book-keeping passes (the norms, then the clipped sum), each cutting every tapped output after the first
        // leaf.
        assertEquals(2L * c.cuts(), cuts.cuts(), c + ": cuts made");
        String[] what = {"per-sample norms", "statistics", "clipped sum"};
        for (int i = 0; i < what.length; i++)
            assertArrayEquals(leaves.bits().get(i), cuts.bits().get(i), c + ": " + what[i]);
    }

    @Test
    void aResidualNetworkIsNotCutAndGivesTheSameBits() {
        Network net = ModelZoo.build(ModelSpec.of("resnet18-gn").withStem("cifar"), Shape.parse("3x8x8"), 10);
        assertFalse(GraphCuts.isChain(net), "a residual network is not a chain");
        Case c = new Case("resnet18-gn", net, "float32", 1, 1, false, false, 0);
        Step on = step(c, true);
        assertEquals(0, on.cuts(), "no cut in a network with residual blocks");
        Step off = step(c, false);
        for (int i = 0; i < 3; i++)
            assertArrayEquals(off.bits().get(i), on.bits().get(i), "result " + i);
    }

    @Test
    void onlyTheSingleLayerTypesMakeAChain() {
        assertTrue(GraphCuts.isChain(ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x28x28"), 10)));
        assertTrue(GraphCuts.isChain(ModelZoo.build(ModelSpec.of("fmnist-cnn"), Shape.parse("1x28x28"), 10)));
        for (String resnet : List.of("resnet18-gn", "resnet50-gn", "wrn16-4")) {
            Network net = ModelZoo.build(ModelSpec.of(resnet), Shape.parse("3x32x32"), 10);
            assertFalse(GraphCuts.isChain(net), resnet);
        }
        // A residual block anywhere, even one with no parameters and an empty shortcut, keeps the zero leaves.
        List<Layer> ls = new ArrayList<>(convGnLinear().layers());
        ls.add(1, new Layer.Residual("r", List.of(new Layer.Activation(ActivationKind.RELU)), List.of()));
        assertFalse(GraphCuts.isChain(ls));
    }

    @Test
    void theSettingReachesTheModelAndProvenanceAndABadValueIsRefused() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x16x16"), 10);
        ModelOptions o = new ModelOptions("bookkeeping", BatchLayout.of(8), List.of(), Map.of("seed", "7"));
        DjlBackend auto = TestSupport.backend();
        DjlBackend never = new DjlBackend(new BackendOptions("cpu", Map.of("graph_cuts", "never")));
        assertTrue(
                auto.versions().get("graph_cuts").endsWith("(graph_cuts=auto)"),
                auto.versions().toString());
        assertEquals("zero leaves (graph_cuts=never)", never.versions().get("graph_cuts"));
        try (DjlTrainableModel a = (DjlTrainableModel) auto.createModel(net, o);
                DjlTrainableModel z = (DjlTrainableModel) never.createModel(net, o)) {
            assertTrue(a.runtime().graphCuts);
            assertFalse(z.runtime().graphCuts);
            long before = Tape.CUTS_MADE.get();
            z.accumulateClipped(TestSupport.batch(net, 4, 1, 3, 1.0), 1.0);
            assertEquals(before, Tape.CUTS_MADE.get(), "never: no cut");
            a.accumulateClipped(TestSupport.batch(net, 4, 1, 3, 1.0), 1.0);
            assertEquals(before + 2, Tape.CUTS_MADE.get(), "auto: small-cnn's conv2 and fc");
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new DjlBackend(new BackendOptions("cpu", Map.of("graph_cuts", "always"))));
        assertEquals("backend setting graph_cuts must be auto or never, got 'always'", e.getMessage());
    }

    /** One group per parameter tensor, each bound below the median of the slots' whole norms over sqrt(groups). */
    private static ClipPolicy perLayer(Network net, double[] norms) {
        int p = net.parameters().size();
        int[] group = new int[p];
        double[] t = new double[p];
        double c = finiteMedian(norms) / Math.sqrt(p);
        for (int i = 0; i < p; i++) {
            group[i] = i;
            t[i] = c * (0.5 + 0.1 * i);
        }
        return new ClipPolicy(t, group);
    }

    private static double clipBetween(double[] norms, DeviceBatch b) {
        return finiteMedian(norms) * 0.999;
    }

    private static double finiteMedian(double[] v) {
        double[] f = java.util.Arrays.stream(v)
                .filter(x -> Double.isFinite(x) && x > 0)
                .sorted()
                .toArray();
        return f[f.length / 2];
    }

    private static boolean nonZero(double[] v) {
        for (double x : v) if (x != 0) return true;
        return false;
    }

    private static long[] bits(double[] v) {
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Double.doubleToLongBits(v[i]);
        return b;
    }
}
