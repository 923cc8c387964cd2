package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;

/**
 * The check every rule test runs: the book-keeping strategy, with the rules' paths forced by
 * {@link RuleOptions}, against the batch-size-1 loop (the {@code microbatch} strategy: one forward
 * and backward per slot, gradients read from autograd), both in float64 end to end. Compared: every
 * slot's norm (padding slots exactly 0), the clip counts, and the float64 clipped sum as it sits in
 * the accumulator (no float32 transfer), under flat or per-group clipping. Then, on the same path, a
 * real slot with a NaN input must add exactly nothing (value for value the sum with that slot as padding).
 */
final class RuleHarness {
    private RuleHarness() {}

    /** Relative tolerance on norms and on the clipped sum. */
    static final double TOL = 1e-9;

    /** How the parameters are grouped for clipping. */
    enum Groups {
        /** One bound on the whole gradient. */
        FLAT,
        /** One group per parameter tensor (weight and bias apart). */
        PER_TENSOR,
        /** One group per layer (the name before the last dot). */
        PER_LAYER
    }

    /** One check: the network, the forced paths, K, frozen prefixes, grouping, and the seed of the batch. */
    record Check(Network net, RuleOptions options, int copies, List<String> frozen, Groups groups, long seed) {}

    static void assertMatchesBatchSizeOneLoop(Check c) {
        Network net = c.net();
        int slots = 5;
        SplittableRandom r = new SplittableRandom(c.seed());
        int[] padded = {r.nextInt(slots)};
        long dataSeed = r.nextLong();
        DeviceBatch b = TestSupport.batch(net, slots, c.copies(), dataSeed, 1.0, padded);
        try (DjlTrainableModel reference =
                        TestSupport.model(net, "microbatch", "float64", c.frozen(), RuleOptions.DEFAULT);
                DjlTrainableModel rule = TestSupport.model(net, "bookkeeping", "float64", c.frozen(), c.options())) {
            double[] want = reference.perSampleGradientNorms(b);
            double[] got = rule.perSampleGradientNorms(b);
            List<Double> real = new ArrayList<>();
            for (int i = 0; i < slots; i++) {
                if (b.mask()[i] == 0f) {
                    assertEquals(0.0, got[i], "padding slot " + i + " has a norm");
                    continue;
                }
                assertTrue(want[i] > 0, "slot " + i + " has a zero gradient in the reference");
                assertEquals(want[i], got[i], TOL * want[i], "norm of slot " + i);
                real.add(want[i]);
            }
            double mid = TestSupport.midpointBelowMedian(
                    real.stream().mapToDouble(Double::doubleValue).toArray());
            ClipPolicy policy = policy(net, c.groups(), mid);

            BatchStats rs = reference.accumulateClipped(b, policy);
            BatchStats fs = rule.accumulateClipped(b, policy);
            if (c.groups() == Groups.FLAT) {
                assertTrue(rs.clipped() > 0 && rs.clipped() < rs.samples(), "some but not all clipped: " + rs);
            }
            assertEquals(rs.samples(), fs.samples());
            assertEquals(rs.clipped(), fs.clipped());
            assertEquals(0, fs.nonFinite());
            assertEquals(rs.lossSum(), fs.lossSum(), TOL * Math.abs(rs.lossSum()));
            assertEquals(rs.normSum(), fs.normSum(), TOL * rs.normSum());

            double[] wantSum = reference.gradientSum64();
            double[] gotSum = rule.gradientSum64();
            double num = 0;
            double den = 0;
            for (int i = 0; i < wantSum.length; i++) {
                num += (gotSum[i] - wantSum[i]) * (gotSum[i] - wantSum[i]);
                den += wantSum[i] * wantSum[i];
            }
            assertTrue(den > 0, "the reference clipped sum is zero");
            assertTrue(
                    Math.sqrt(num) <= TOL * Math.sqrt(den),
                    "relative error of the clipped sum " + Math.sqrt(num / den));
            assertFrozenAreZero(net, c.frozen(), gotSum);

            // A real slot with a non-finite input adds exactly nothing on this path: the sum equals, value for value,
            // that of the batch with the slot as padding (a path that forgot ClipFactors.select would add NaN).
            int bad = padded[0] == 0 ? 1 : 0;
            DeviceBatch poisoned = TestSupport.batch(net, slots, c.copies(), dataSeed, 1.0, padded);
            poisoned.inputs()[poisoned.inputOffset(bad, c.copies() - 1)] = Float.NaN;
            DeviceBatch without = TestSupport.batch(net, slots, c.copies(), dataSeed, 1.0, padded[0], bad);
            float[] drained = new float[gotSum.length];
            rule.drainGradientSum(drained);
            BatchStats withBad = rule.accumulateClipped(poisoned, policy);
            double[] poisonedSum = rule.gradientSum64();
            rule.drainGradientSum(drained);
            BatchStats clean = rule.accumulateClipped(without, policy);
            double[] cleanSum = rule.gradientSum64();
            assertEquals(1, withBad.nonFinite(), "the NaN slot is counted");
            assertEquals(clean.clipped(), withBad.clipped());
            for (int i = 0; i < cleanSum.length; i++) {
                // == (not bit equality): only the sign of an exact zero may differ
                assertTrue(
                        poisonedSum[i] == cleanSum[i],
                        "coordinate " + i + ": " + poisonedSum[i] + " vs " + cleanSum[i]);
            }
        }
    }

    /** The logits (here: the flattened output) of {@code net} on {@code b}, in float64. */
    static double[] forward(Network net, DeviceBatch b) {
        try (DjlTrainableModel m = TestSupport.model(net, "auto", "float64", List.of(), RuleOptions.DEFAULT)) {
            return m.logits(b);
        }
    }

    /** A seeded check of a parameter-free rule between parametrised layers: flat and per-layer clipping, K = 1 and 2. */
    static void assertGradientsFlowThrough(Network net, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int k = 1; k <= 2; k++) {
            for (Groups g : new Groups[] {Groups.FLAT, Groups.PER_LAYER}) {
                assertMatchesBatchSizeOneLoop(new Check(net, RuleOptions.DEFAULT, k, List.of(), g, r.nextLong()));
            }
        }
    }

    /** Thresholds: {@code mid} for flat clipping (so about half the slots clip); mid/√G per group otherwise. */
    static ClipPolicy policy(Network net, Groups groups, double mid) {
        if (groups == Groups.FLAT) return ClipPolicy.flat(mid);
        List<ParamSpec> ps = net.parameters();
        Map<String, Integer> ids = new LinkedHashMap<>();
        int[] groupOf = new int[ps.size()];
        for (int i = 0; i < ps.size(); i++) {
            String name = ps.get(i).name();
            String key = groups == Groups.PER_TENSOR ? name : name.substring(0, name.lastIndexOf('.'));
            groupOf[i] = ids.computeIfAbsent(key, k -> ids.size());
        }
        double[] thresholds = new double[ids.size()];
        java.util.Arrays.fill(thresholds, mid / Math.sqrt(ids.size()));
        return new ClipPolicy(thresholds, groupOf);
    }

    static void assertFrozenAreZero(Network net, List<String> frozen, double[] sum) {
        List<ParamSpec> ps = net.parameters();
        int[] off = net.parameterOffsets();
        for (int i = 0; i < ps.size(); i++) {
            if (frozen.stream().noneMatch(ps.get(i).name()::startsWith)) continue;
            for (int k = 0; k < ps.get(i).size(); k++) {
                assertEquals(0.0, sum[off[i] + k], ps.get(i).name() + " is frozen but has a gradient");
            }
        }
    }
}
