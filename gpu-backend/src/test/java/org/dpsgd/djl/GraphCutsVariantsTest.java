package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Graph cuts beyond {@link GraphCutsTest}'s cases (from the review of cut11, S2): frozen layers, which move the first
 * leaf and so which outputs are cut; two {@code accumulateClipped} calls before a drain; the taps on two threads; a
 * single slot; fmnist-cnn (also weight-standardised); a conv straight after a conv and a linear straight after a
 * linear; and every norm rule with every unfold. Each compares norms, statistics and the drained sum bit for bit
 * with zero leaves, and checks that cuts were made.
 */
class GraphCutsVariantsTest {
    record P(
            String label,
            Network net,
            String dtype,
            List<String> frozen,
            RuleOptions rules,
            int copies,
            boolean twice,
            TapPhases.Mode taps,
            int slots) {
        @Override
        public String toString() {
            return label;
        }
    }

    static Network convConvLinear() {
        Shape in = Shape.parse("3x7x7");
        List<Layer> ls = new ArrayList<>();
        ls.add(new Layer.Conv2d("c1", 3, 4, 3, 1, 0, true, false));
        ls.add(new Layer.Conv2d("c2", 4, 5, 3, 2, 1, true, false)); // conv straight after conv: no op between
        ls.add(new Layer.MaxPool2d(2, 1, 1));
        ls.add(new Layer.Conv2d("c3", 5, 4, 1, 1, 0, false, false)); // 1x1
        ls.add(new Layer.Flatten());
        int flat = Network.outputShape(ls, in).size();
        ls.add(new Layer.Linear("l1", flat, 6, true));
        ls.add(new Layer.Linear("l2", 6, 4, true)); // linear straight after linear
        return new Network("conv-conv-linear", in, 4, ls);
    }

    static Stream<Arguments> cases() {
        Network small = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x12x12"), 10);
        Network fm = ModelZoo.build(ModelSpec.of("fmnist-cnn"), Shape.parse("1x28x28"), 10);
        Network fmws = ModelZoo.build(new ModelSpec("fmnist-cnn", null, null, null, true), Shape.parse("1x28x28"), 10);
        Network ccl = convConvLinear();
        RuleOptions d = RuleOptions.DEFAULT;
        TapPhases.Mode n = TapPhases.Mode.NEVER;
        List<P> ps = new ArrayList<>();
        ps.add(new P("small frozen conv1", small, "float32", List.of("conv1"), d, 1, false, n, 6));
        ps.add(new P("small frozen conv1+gn1", small, "float32", List.of("conv1", "gn1"), d, 1, false, n, 6));
        ps.add(new P("small frozen conv2", small, "float32", List.of("conv2"), d, 2, false, n, 6));
        ps.add(new P("small frozen fc", small, "float32", List.of("fc"), d, 1, false, n, 6));
        ps.add(new P("small frozen gn1 gn2 fc.bias", small, "float64", List.of("gn", "fc.bias"), d, 1, false, n, 6));
        ps.add(new P("small frozen conv1.weight", small, "float32", List.of("conv1.weight"), d, 1, false, n, 6));
        ps.add(new P("small accumulate twice", small, "float32", List.of(), d, 2, true, n, 6));
        ps.add(new P("small parallel taps", small, "float32", List.of(), d, 1, true, TapPhases.Mode.ALWAYS, 6));
        ps.add(new P("small slots=1", small, "float32", List.of(), d, 1, false, n, 1));
        ps.add(new P("fmnist-cnn", fm, "float32", List.of(), d, 1, false, n, 6));
        ps.add(new P("fmnist-cnn ws K=2", fmws, "float32", List.of(), d, 2, true, n, 6));
        ps.add(new P("conv-conv-linear", ccl, "float32", List.of(), d, 1, false, n, 6));
        ps.add(new P("conv-conv-linear K=3 fp64", ccl, "float64", List.of(), d, 3, true, n, 6));
        for (RuleOptions.Norm nm : RuleOptions.Norm.values())
            for (RuleOptions.Unfold u : List.of(
                    RuleOptions.Unfold.AUTO,
                    RuleOptions.Unfold.ONE_HOT,
                    RuleOptions.Unfold.SLICES,
                    RuleOptions.Unfold.STRIDED,
                    RuleOptions.Unfold.GROUPED))
                ps.add(new P(
                        "small " + nm + "/" + u, small, "float32", List.of(), new RuleOptions(nm, u), 2, false, n, 6));
        return ps.stream().map(Arguments::of);
    }

    record Step(List<long[]> bits, long cuts) {}

    static Step step(P c, boolean cut) {
        Network net = c.net();
        int np = Math.toIntExact(net.parameterCount());
        List<long[]> out = new ArrayList<>();
        long before = Tape.CUTS_MADE.get();
        try (DjlTrainableModel m = TestSupport.model(net, "bookkeeping", c.dtype(), c.frozen(), c.rules())) {
            m.runtime().graphCuts = cut;
            m.runtime().taps = new TapPhases(c.taps() == TapPhases.Mode.ALWAYS, Device.cpu(), c.taps());
            int slots = c.slots();
            DeviceBatch b = slots == 1
                    ? TestSupport.batch(net, 1, c.copies(), 41, 1.0)
                    : TestSupport.batch(net, slots, c.copies(), 41, 1.0, 2);
            double[] norms = m.perSampleGradientNorms(b);
            out.add(bits(norms));
            double med = java.util.Arrays.stream(norms).sorted().toArray()[norms.length / 2];
            BatchStats s = m.accumulateClipped(b, ClipPolicy.flat(med * 0.999));
            out.add(new long[] {
                s.samples(),
                Double.doubleToLongBits(s.lossSum()),
                s.correct(),
                s.clipped(),
                Double.doubleToLongBits(s.normSum())
            });
            if (c.twice()) {
                DeviceBatch b2 = TestSupport.batch(net, Math.max(slots, 2), c.copies(), 43, 2.0, 1);
                m.accumulateClipped(b2, ClipPolicy.flat(med * 0.5));
            }
            double[] sum = new double[np];
            m.drainGradientSum(sum);
            out.add(bits(sum));
        }
        return new Step(out, Tape.CUTS_MADE.get() - before);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cutsGiveTheZeroLeavesBits(P c) {
        Step off = step(c, false);
        Step on = step(c, true);
        assertEquals(0, off.cuts());
        assertTrue(on.cuts() > 0, c + ": no cut made");
        for (int i = 0; i < off.bits().size(); i++)
            assertArrayEquals(off.bits().get(i), on.bits().get(i), c + " " + i);
    }

    private static long[] bits(double[] v) {
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Double.doubleToLongBits(v[i]);
        return b;
    }
}
