package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * {@link Conv2dRule}: every unfold (reshape, one-hot, slices, and the AUTO choice) × every norm
 * (mixed, ghost, explicit) × weight standardisation × K = 1, 2, on geometries where AUTO picks
 * each unfold and MIXED picks each norm, with padding, frozen tensors and per-group clipping drawn
 * from a seeded generator; each against the batch-size-1 loop in float64 ({@link RuleHarness}).
 */
class Conv2dRuleTest {
    /** A conv on an hw×hw input, then tanh, flatten and a linear head to 3 classes. */
    record Geometry(String label, int in, int out, int kernel, int stride, int padding, boolean bias, int hw) {
        Layer.Conv2d conv(boolean ws) {
            return new Layer.Conv2d("conv", in, out, kernel, stride, padding, bias, ws);
        }

        Network net(boolean ws) {
            Shape input = new Shape(in, hw, hw);
            Shape mid = conv(ws).outputShape(input);
            return new Network(
                    label,
                    input,
                    3,
                    List.of(
                            conv(ws),
                            new Layer.Activation(Layer.ActivationKind.TANH),
                            new Layer.Flatten(),
                            new Layer.Linear("head", mid.size(), 3, true)));
        }

        boolean pointwise() {
            return kernel == 1 && stride == 1 && padding == 0;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static final List<Geometry> GEOMETRIES = List.of(
            // AUTO: one-hot (in·d = 9); MIXED: explicit (2T'² > p·d).
            new Geometry("1->4 k3 s1 p1 @6", 1, 4, 3, 1, 1, true, 6),
            // AUTO: slices (in·d = 1296); MIXED: ghost (T' = 9K).
            new Geometry("12->6 k3 s2 p1 @6", 12, 6, 3, 2, 1, true, 6),
            // AUTO: reshape.
            new Geometry("4->5 k1 @4", 4, 5, 1, 1, 0, true, 4),
            // AUTO: one-hot; a strided 1x1 (the shortcut of a residual stage), no bias.
            new Geometry("3->4 k1 s2 nobias @5", 3, 4, 1, 2, 0, false, 5),
            // An even kernel with padding 0.
            new Geometry("3->2 k2 s2 @6", 3, 2, 2, 2, 0, true, 6));

    static final List<List<String>> FROZEN = List.of(List.of(), List.of("head"), List.of("conv.bias"));

    static Stream<Arguments> paths() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(2024);
        for (Geometry g : GEOMETRIES) {
            List<RuleOptions.Unfold> unfolds = new ArrayList<>(List.of(
                    RuleOptions.Unfold.AUTO,
                    RuleOptions.Unfold.ONE_HOT,
                    RuleOptions.Unfold.SLICES,
                    RuleOptions.Unfold.STRIDED));
            if (g.pointwise()) unfolds.add(RuleOptions.Unfold.RESHAPE);
            for (RuleOptions.Unfold u : unfolds) {
                for (RuleOptions.Norm n : RuleOptions.Norm.values()) {
                    for (boolean ws : new boolean[] {false, true}) {
                        if (ws && n == RuleOptions.Norm.GHOST)
                            continue; // refused: see ghostIsRefusedWithStandardisation
                        for (int k = 1; k <= 2; k++) {
                            List<String> frozen = FROZEN.get(r.nextInt(FROZEN.size()));
                            if (!g.bias() && frozen.equals(List.of("conv.bias"))) frozen = List.of();
                            RuleHarness.Groups groups =
                                    RuleHarness.Groups.values()[r.nextInt(RuleHarness.Groups.values().length)];
                            out.add(Arguments.of(g, u, n, ws, k, frozen, groups, r.nextLong()));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} unfold={1} norm={2} ws={3} K={4} frozen={5} {6}")
    @MethodSource("paths")
    void equalsTheBatchSizeOneLoop(
            Geometry g,
            RuleOptions.Unfold unfold,
            RuleOptions.Norm norm,
            boolean ws,
            int copies,
            List<String> frozen,
            RuleHarness.Groups groups,
            long seed) {
        RuleHarness.assertMatchesBatchSizeOneLoop(
                new RuleHarness.Check(g.net(ws), new RuleOptions(norm, unfold), copies, frozen, groups, seed));
    }

    static Stream<Arguments> ghostPaths() {
        return paths().filter(a -> a.get()[2] != RuleOptions.Norm.EXPLICIT);
    }

    /**
     * The ghost cases again with no unfold kept from the norms to the clipped sum: the sum then unfolds afresh (the
     * path of resnet50-gn's large ghost layers), and must still give what the norms bounded (review of r18x7, S1).
     */
    @ParameterizedTest(name = "{0} unfold={1} norm={2} ws={3} K={4} frozen={5} {6}")
    @MethodSource("ghostPaths")
    void equalsTheBatchSizeOneLoopWhenTheSumUnfoldsAfresh(
            Geometry g,
            RuleOptions.Unfold unfold,
            RuleOptions.Norm norm,
            boolean ws,
            int copies,
            List<String> frozen,
            RuleHarness.Groups groups,
            long seed) {
        long kept = Conv2dRule.keepUnfoldBytes;
        Conv2dRule.keepUnfoldBytes = 0;
        try {
            RuleHarness.assertMatchesBatchSizeOneLoop(
                    new RuleHarness.Check(g.net(ws), new RuleOptions(norm, unfold), copies, frozen, groups, seed));
        } finally {
            Conv2dRule.keepUnfoldBytes = kept;
        }
    }

    static Stream<Arguments> formedInFloat32() {
        List<Arguments> out = new ArrayList<>();
        for (Geometry g : GEOMETRIES) {
            List<RuleOptions.Unfold> unfolds = new ArrayList<>(List.of(
                    RuleOptions.Unfold.AUTO,
                    RuleOptions.Unfold.ONE_HOT,
                    RuleOptions.Unfold.SLICES,
                    RuleOptions.Unfold.STRIDED,
                    RuleOptions.Unfold.GROUPED));
            if (g.pointwise()) unfolds.add(RuleOptions.Unfold.RESHAPE);
            for (RuleOptions.Unfold u : unfolds)
                for (boolean ws : new boolean[] {false, true})
                    for (int k = 1; k <= 2; k++) {
                        out.add(Arguments.of(g, u, ws, k, List.of()));
                        if (g.bias()) out.add(Arguments.of(g, u, ws, k, List.of("conv.weight")));
                    }
        }
        return out.stream();
    }

    /**
     * The explicit path of a float32 model forms per-sample gradients in float32 (docs/djl.md, "Float64
     * clipping arithmetic"): its per-slot norms and clipped sum (C at the median norm, so some slots are
     * clipped) agree with the float64 model's (itself equal to the batch-size-1 loop, above) to 1e-4, for
     * every unfold, with weight standardisation, K = 1, 2, padding, and the bias alone. STRIDED forms through
     * {@link NativeConvUnfold#perSampleGradient} here (the geometries take both its layouts); AUTO (without weight
     * standardisation) through {@link NativeConvUnfold#formedGradients}, by the unfold for few channels and grouped
     * for 12, and GROUPED grouped on every geometry, the 1x1 reshape included.
     */
    @ParameterizedTest(name = "{0} unfold={1} ws={2} K={3} frozen={4}")
    @MethodSource("formedInFloat32")
    void formedInFloat32AgreesWithFloat64(
            Geometry g, RuleOptions.Unfold unfold, boolean ws, int copies, List<String> frozen) {
        Network net = g.net(ws);
        RuleOptions rules = new RuleOptions(RuleOptions.Norm.EXPLICIT, unfold);
        try (DjlTrainableModel f32 = TestSupport.model(net, "bookkeeping", "float32", frozen, rules);
                DjlTrainableModel f64 = TestSupport.model(net, "bookkeeping", "float64", frozen, rules)) {
            org.dpsgd.backend.DeviceBatch b = TestSupport.batch(net, 5, copies, 31, 1.0, 3);
            double[] n32 = f32.perSampleGradientNorms(b);
            double[] n64 = f64.perSampleGradientNorms(b);
            assertEquals(0.0, n32[3], "padding slot");
            double clip = TestSupport.median(new double[] {n64[0], n64[1], n64[2], n64[4]});
            for (int i = 0; i < n64.length; i++)
                assertEquals(n64[i], n32[i], 1e-4 * n64[i] + 1e-30, "slot " + i + " norm");
            f32.accumulateClipped(b, clip);
            f64.accumulateClipped(b, clip);
            float[] s32 = new float[(int) net.parameterCount()];
            float[] s64 = new float[s32.length];
            f32.drainGradientSum(s32);
            f64.drainGradientSum(s64);
            double err = TestSupport.relativeError(s32, s64);
            assertTrue(err < 1e-4, "clipped sum differs from float64's by " + err + " (relative)");
        }
    }

    /** Only the bias of the conv trains (the weight's unfold and norm are skipped). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("biasOnly")
    void biasOnly(Geometry g, int copies) {
        RuleHarness.assertMatchesBatchSizeOneLoop(new RuleHarness.Check(
                g.net(false), RuleOptions.DEFAULT, copies, List.of("conv.weight"), RuleHarness.Groups.PER_TENSOR, 5));
    }

    static Stream<Arguments> biasOnly() {
        return GEOMETRIES.stream()
                .filter(Geometry::bias)
                .flatMap(g -> Stream.of(Arguments.of(g, 1), Arguments.of(g, 2)));
    }

    /** The geometries above make AUTO and MIXED take every branch, so the default paths are covered too. */
    @Test
    void autoAndMixedTakeEveryBranch() {
        List<RuleOptions.Unfold> chosen = new ArrayList<>();
        for (Geometry g : GEOMETRIES) chosen.add(Conv2dRule.unfoldPath(g.conv(false), RuleOptions.Unfold.AUTO));
        assertEquals(
                List.of(
                        RuleOptions.Unfold.ONE_HOT,
                        RuleOptions.Unfold.SLICES,
                        RuleOptions.Unfold.RESHAPE,
                        RuleOptions.Unfold.ONE_HOT,
                        RuleOptions.Unfold.ONE_HOT),
                chosen);
        // The float32 explicit formation: fused for every k > 1 or strided kernel under AUTO, never for a reshape
        // or a forced ONE_HOT / SLICES; weight-order copy for 1 channel at width 6, kernel-major for 12 at width 3.
        List<Boolean> fused = new ArrayList<>();
        for (Geometry g : GEOMETRIES) fused.add(Conv2dRule.fusedFormation(g.conv(false), RuleOptions.Unfold.AUTO));
        assertEquals(List.of(true, true, false, true, true), fused);
        assertFalse(Conv2dRule.fusedFormation(GEOMETRIES.get(0).conv(false), RuleOptions.Unfold.ONE_HOT));
        assertFalse(Conv2dRule.fusedFormation(GEOMETRIES.get(1).conv(false), RuleOptions.Unfold.SLICES));
        assertTrue(Conv2dRule.fusedFormation(GEOMETRIES.get(1).conv(false), RuleOptions.Unfold.STRIDED));
        // The one-call formation: by the unfold below 8 input channels, grouped from 8 (12->6), none for a reshape
        // or any forced unfold but GROUPED, which takes it everywhere.
        List<Conv2dRule.OneCall> oneCall = new ArrayList<>();
        for (Geometry g : GEOMETRIES) oneCall.add(Conv2dRule.oneCall(g.conv(false), RuleOptions.Unfold.AUTO));
        assertEquals(
                List.of(
                        Conv2dRule.OneCall.UNFOLD,
                        Conv2dRule.OneCall.GROUPED,
                        Conv2dRule.OneCall.NONE,
                        Conv2dRule.OneCall.UNFOLD,
                        Conv2dRule.OneCall.UNFOLD),
                oneCall);
        for (Geometry g : GEOMETRIES) {
            assertEquals(Conv2dRule.OneCall.GROUPED, Conv2dRule.oneCall(g.conv(false), RuleOptions.Unfold.GROUPED));
            assertEquals(Conv2dRule.OneCall.NONE, Conv2dRule.oneCall(g.conv(false), RuleOptions.Unfold.STRIDED));
            assertEquals(Conv2dRule.OneCall.NONE, Conv2dRule.oneCall(g.conv(false), RuleOptions.Unfold.SLICES));
        }
        assertFalse(NativeConvUnfold.kernelMajor(1, 3, 6));
        assertTrue(NativeConvUnfold.kernelMajor(12, 3, 3));
        // 1->4 k3 on 6x6: T' = 36K positions, p·d = 36; 12->6 k3 s2: T' = 9K, p·d = 648.
        assertFalse(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 36, 4, 9, false, 8));
        assertTrue(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 9, 6, 108, false, 8));
        assertTrue(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 18, 6, 108, false, 8));
        assertFalse(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 9, 6, 108, true, 8));
        // Formed in float32 (4 bytes) the per-sample gradient costs half: 2T'² = p·d is now explicit, 4T'² = p·d
        // ghost.
        assertFalse(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 18, 6, 108, false, 4));
        assertTrue(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 9, 6, 54, false, 4));
        assertFalse(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, 9, 6, 53, false, 4));
        assertTrue(Conv2dRule.useGhost(RuleOptions.Norm.GHOST, 36, 4, 9, false, 4));
        assertFalse(Conv2dRule.useGhost(RuleOptions.Norm.EXPLICIT, 1, 64, 576, false, 4));
    }

    @Test
    void ghostIsRefusedWithStandardisation() {
        Network net = GEOMETRIES.get(1).net(true);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TestSupport.model(
                        net, "bookkeeping", "float64", List.of(), RuleOptions.DEFAULT.with(RuleOptions.Norm.GHOST)));
        assertTrue(e.getMessage().contains("weight-standardised"), e.getMessage());
    }

    @Test
    void reshapeIsRefusedUnlessPointwise() {
        Network net = GEOMETRIES.get(0).net(false);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TestSupport.model(
                        net,
                        "bookkeeping",
                        "float64",
                        List.of(),
                        RuleOptions.DEFAULT.with(RuleOptions.Unfold.RESHAPE)));
        assertTrue(e.getMessage().contains("1x1 kernel"), e.getMessage());
    }
}
