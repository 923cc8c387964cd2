package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicies;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.config.PerLayerClipping;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Flat and per-layer clipping on both strategies against the batch-size-1 loop in float64: each real
 * slot's gradient is computed alone (unclipped, every other slot padding), clipped per group on the
 * host with the documented factor min(1, C_l(1 − η)/(‖g_l‖(1 + γ))), and summed; padding slots, augmentation
 * multiplicity and frozen layers included.
 */
class PerLayerClippingTest {
    record Case(
            String label,
            ModelSpec spec,
            String input,
            int copies,
            List<String> frozen,
            String strategy,
            PerLayerClipping split) {
        @Override
        public String toString() {
            return label + " K=" + copies + " " + strategy + " "
                    + (split == null ? "flat" : split.split() + "/" + split.groups())
                    + (frozen.isEmpty() ? "" : " frozen=" + frozen);
        }
    }

    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        List<PerLayerClipping> splits = new ArrayList<>();
        splits.add(null);
        splits.add(PerLayerClipping.of("equal", "tensor"));
        splits.add(PerLayerClipping.of("sqrt_params", "layer"));
        for (String strategy : List.of("bookkeeping", "microbatch")) {
            for (PerLayerClipping split : splits) {
                cs.add(new Case("small-cnn", ModelSpec.of("small-cnn"), "1x16x16", 1, List.of(), strategy, split));
                cs.add(new Case(
                        "small-cnn", ModelSpec.of("small-cnn"), "1x16x16", 2, List.of("conv1"), strategy, split));
                cs.add(new Case(
                        "resnet18-gn",
                        ModelSpec.of("resnet18-gn").withStem("cifar"),
                        "3x8x8",
                        1,
                        List.of("conv1", "bn1", "layer1"),
                        strategy,
                        split));
            }
            cs.add(new Case(
                    "wrn16-4-ws",
                    new ModelSpec("wrn16-4", null, null, null, true),
                    "3x8x8",
                    2,
                    List.of("layer1.0.conv1"),
                    strategy,
                    PerLayerClipping.of("equal", "layer")));
        }
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void equalsTheBatchSizeOneLoop(Case c) {
        Network net = ModelZoo.build(c.spec(), Shape.parse(c.input()), 10);
        int n = (int) net.parameterCount();
        int slots = 5;
        int[] padded = {1, 3};
        DeviceBatch b = TestSupport.batch(net, slots, c.copies(), 31, 1.0, padded);
        try (DjlTrainableModel oneByOne = TestSupport.model(net, "microbatch", "float64", c.frozen());
                DjlTrainableModel m = TestSupport.model(net, c.strategy(), "float64", c.frozen())) {
            // The batch-size-1 loop: each real slot alone.
            List<double[]> perSample = new ArrayList<>();
            for (int s = 0; s < slots; s++) {
                if (b.mask()[s] == 0f) continue;
                DeviceBatch one = TestSupport.batch(net, slots, c.copies(), 31, 1.0, ClipBoundTest.others(s, slots));
                oneByOne.accumulateUnclipped(one);
                float[] g = ClipBoundTest.drain(oneByOne, net);
                double[] d = new double[n];
                for (int i = 0; i < n; i++) d[i] = g[i];
                perSample.add(d);
            }
            double[] totals =
                    perSample.stream().mapToDouble(PerLayerClippingTest::norm).toArray();
            PrivacyConfig privacy = PrivacyConfig.withSigma(TestSupport.median(totals), 1.0, 1e-5)
                    .withClipping(c.split());
            ClipPolicy policy = ClipPolicies.from(privacy, net, c.frozen());
            assertEquals(TestSupport.median(totals), policy.sensitivity(), 1e-12 * policy.sensitivity());

            double[] want = new double[n];
            double scale =
                    0; // Σ_i ‖clip(g_i)‖: float rounding of the per-sample references is relative to this, not to ‖Σ‖
            int clippedGroups = 0;
            int unclippedGroups = 0;
            List<ParamSpec> ps = net.parameters();
            int[] off = net.parameterOffsets();
            for (double[] g : perSample) {
                double[] sq = new double[policy.groups()];
                for (int i = 0; i < ps.size(); i++) {
                    if (frozen(ps.get(i).name(), c.frozen())) continue;
                    for (int k = 0; k < ps.get(i).size(); k++) sq[policy.groupOf(i)] += g[off[i] + k] * g[off[i] + k];
                }
                double[] f = new double[policy.groups()];
                for (int j = 0; j < f.length; j++) {
                    // The documented factor: min(1, C_l(1 − η)/(‖g_l‖(1 + γ))) (the slack terms of unformed
                    // gradients are ~1e-9 relative here and within the tolerance).
                    f[j] = ClipBound.factor(ClipBound.boundingNorm(sq[j], 0, 0), policy.thresholds()[j]);
                    if (sq[j] > 0) {
                        if (f[j] < 1) clippedGroups++;
                        else unclippedGroups++;
                    }
                }
                double clippedSq = 0;
                for (int i = 0; i < ps.size(); i++) {
                    for (int k = 0; k < ps.get(i).size(); k++) {
                        double v = f[policy.groupOf(i)] * g[off[i] + k];
                        want[off[i] + k] += v;
                        clippedSq += v * v;
                    }
                }
                scale += Math.sqrt(clippedSq);
            }
            assertTrue(
                    clippedGroups > 0 && unclippedGroups > 0,
                    "some groups clipped, some not: " + clippedGroups + "/" + unclippedGroups);

            BatchStats s = m.accumulateClipped(b, policy);
            assertEquals(slots - padded.length, s.samples());
            float[] got = ClipBoundTest.drain(m, net);
            double num = 0;
            for (int i = 0; i < n; i++) num += (got[i] - want[i]) * (got[i] - want[i]);
            double err = Math.sqrt(num) / scale;
            // float64 throughout; the drained sum and the reference gradients travel as float32.
            assertTrue(err <= 3e-7, c + ": relative error " + err);
            for (int i = 0; i < ps.size(); i++) {
                if (!frozen(ps.get(i).name(), c.frozen())) continue;
                for (int k = 0; k < ps.get(i).size(); k++)
                    assertEquals(0f, got[off[i] + k], ps.get(i).name() + " is frozen");
            }
        }
    }

    static boolean frozen(String name, List<String> prefixes) {
        return prefixes.stream().anyMatch(name::startsWith);
    }

    static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }
}
