package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.plan.StaticShapePlanner;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A neighbouring pair whose float32 device sums differ by more than C under the 2^−10 margin alone,
 * and by at most C with the coupling margin: the device's accumulators simulated in Java (the
 * planner's packing; per replica and micro-batch acc += its slots in float32; GCL over replicas in
 * float32), each example clipped as ClipExpr.hpp's factor does it, in float32, at the bound the
 * production ClipTable / StepMargin sends.
 *
 * <p>The construction (one coordinate, C = 1, B = 361 on one replica, one slot per micro-batch: the
 * largest step the cap accepts there): D = [x_i, 170 × 0.75, 190 × c], D' = D without x_i. After the
 * 0.75s, D' holds 127.5 (ulp U = 2^−17) and D holds 127.5 + x_i ≥ 128 (ulp 2U). With c = 1.25·U
 * every add of c rounds up to 2U in D and down to U in D': each of the 190 later examples moves the
 * difference by U although none of them changed, so ‖S(D) − S(D')‖ = x_i + 190·2^−17 = x_i + 1.45·10⁻³,
 * above C when x_i is clipped at C(1 − 2^−10) only.
 */
class Float32CouplingTest {
    private static final int B = 361;
    private static final int BIGS = 170;
    private static final float BIG = 0.75f;
    private static final float SMALL = 1.25f * 0x1p-17f;
    /** ClipExpr.hpp kMargin. */
    private static final float OWN_MARGIN = 1.0f / 1024.0f;

    @ParameterizedTest(name = "accumulation {0}")
    @ValueSource(ints = {1, 8, 19, 361})
    void aNeighbouringPairExceedsCWithTheOwnMarginOnlyAndNotWithTheCouplingMargin(int accumulation) {
        BatchLayout layout = new BatchLayout(1, accumulation, 1);
        ClipPolicy flat = ClipPolicy.flat(1.0);
        int[] trainable = {0};

        float oldBound = ClipTable.of(flat, trainable, BigDecimal.ZERO)[0];
        assertEquals(1.0f, oldBound);
        double oldGap = gap(layout, oldBound, false); // the old model: one drain per step, 2^-10 only
        assertTrue(oldGap > 1.0, "with the 2^-10 margin alone the pair differs by " + oldGap + " > C");

        StepMargin margin = new StepMargin(layout, 1, false, 1);
        margin.boundStepExamples(B); // accepted: the largest B the cap allows here
        float[] mask = new float[layout.slotsPerCall()];
        mask[0] = 1f;
        float newBound = margin.tableForCall(flat, trainable, mask)[0];
        // Several calls on one replica: the model drains every call into its float64 host sum.
        assertEquals(accumulation < B, margin.drainsEveryCall());
        double newGap = gap(layout, newBound, margin.drainsEveryCall());
        assertTrue(newGap <= 1.0, "with the coupling margin the pair differs by " + newGap + " > C");

        // The rounding never passes the bound κ·C(1 − μ); with one drain per step (one call) the
        // construction reaches a real share of it (within 16×).
        double kappa = margin.margin().coupling().doubleValue();
        double excess = newGap - clipped(10f, newBound);
        assertTrue(excess <= kappa * newBound, excess + " > κ·bound " + kappa * newBound);
        if (!margin.drainsEveryCall())
            assertTrue(excess >= kappa * newBound / 16, "the construction should be near worst case: " + excess);
    }

    /** The same pair through a one-drain-per-step model told B: still within C, with μ about 2^-6. */
    @ParameterizedTest(name = "accumulation {0}")
    @ValueSource(ints = {1, 8, 19})
    void oneDrainPerStepAlsoStaysWithinC(int accumulation) {
        BatchLayout layout = new BatchLayout(1, accumulation, 1);
        AccumulatorMargin step = new AccumulatorMargin(B, layout, 1, false, 1);
        step.checkCoupling();
        float bound = ClipTable.of(ClipPolicy.flat(1.0), new int[] {0}, step.checkedLowering(1.0))[0];
        double gap = gap(layout, bound, false);
        assertTrue(gap <= 1.0, "one drain per step: " + gap + " > C");
        double excess = gap - clipped(10f, bound);
        double kappa = step.coupling().doubleValue();
        assertTrue(excess <= kappa * bound && excess >= kappa * bound / 16, excess + " vs κ·bound " + kappa * bound);
    }

    /**
     * Seeded neighbouring pairs over layouts with several slots per micro-batch and several replicas
     * (removing an example repacks every later one into another slot, replica and call), at the
     * largest step bound the cap accepts there: a big-then-small mix built to cross binades like the
     * construction above, the removed example anywhere. The sums, as the model drains them, never
     * differ by more than C.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void repackedNeighboursStayWithinCAtTheLargestAcceptedStep(long seed) {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        for (int trial = 0; trial < 20; trial++) {
            BatchLayout layout = new BatchLayout(1 + rng.nextInt(4), 1 + rng.nextInt(8), 1 << rng.nextInt(3));
            int b = largestAccepted(layout);
            StepMargin margin = new StepMargin(layout, 1, false, 1);
            margin.boundStepExamples(b);
            float[] mask = new float[layout.slotsPerCall()];
            mask[0] = 1f;
            float bound = margin.tableForCall(ClipPolicy.flat(1.0), new int[] {0}, mask)[0];
            int bigs = b / 3 + rng.nextInt(b / 3 + 1);
            int e = rng.nextInt(-24, -14);
            float[] d = new float[b];
            for (int k = 0; k < b; k++) {
                float g = k < bigs
                        ? (float) (rng.nextDouble(0.5, 1.0) * 10)
                        : (float) Math.scalb(1.0 + rng.nextInt(4) * 0.25, e);
                d[k] = clipped(rng.nextInt(8) == 0 ? -g : g, bound);
            }
            int i = rng.nextInt(b);
            float[] without = new float[b - 1];
            for (int k = 0, o = 0; k < b; k++) if (k != i) without[o++] = d[k];
            double gap = Math.abs(deviceSum(d, layout, margin.drainsEveryCall())
                    - deviceSum(without, layout, margin.drainsEveryCall()));
            assertTrue(gap <= 1.0, layout + " B=" + b + " removing " + i + ": " + gap + " > C");
        }
    }

    private static int largestAccepted(BatchLayout layout) {
        int lo = 1, hi = 1 << 20;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            try {
                AccumulatorMargin.cheaper(mid, layout, 1, false, 1).checkCoupling();
                lo = mid;
            } catch (org.dpsgd.UserError refused) {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** ‖S(D) − S(D')‖ for the construction, each example clipped at {@code bound} as the device does. */
    private static double gap(BatchLayout layout, float bound, boolean drainEveryCall) {
        float xi = clipped(10f, bound); // clipped to (about) bound·(1 − 2^-10)
        float big = clipped(BIG, bound);
        float small = clipped(SMALL, bound);
        assertEquals(BIG, big, "the 0.75s are not clipped");
        float[] d = new float[B];
        float[] dPrime = new float[B - 1];
        d[0] = xi;
        for (int k = 1; k < B; k++) d[k] = k <= BIGS ? big : small;
        System.arraycopy(d, 1, dPrime, 0, B - 1);
        return Math.abs(deviceSum(d, layout, drainEveryCall) - deviceSum(dPrime, layout, drainEveryCall));
    }

    /**
     * One example's clipped one-coordinate value as ClipExpr.hpp's factor computes it in float32 (loss
     * scale 1): min(1, fl(C_t·(1 − 2^−10)) / ‖g‖) · g.
     */
    static float clipped(float g, float bound) {
        float norm = (float) Math.sqrt(g * g);
        float factor = Math.min(1.0f, bound * (1.0f - OWN_MARGIN) / Math.max(norm, 1e-30f));
        return g * factor;
    }

    /**
     * The device's float32 sum of one coordinate over a step: the planner's calls; per replica and
     * micro-batch acc = (…(acc + s_1) + …) + s_m (padding adds exact zeros); then GCL over replicas,
     * once per step, or after every call into a float64 host sum (then the accumulators restart at 0).
     */
    static double deviceSum(float[] drawn, BatchLayout layout, boolean drainEveryCall) {
        StaticShapePlanner planner = new StaticShapePlanner(layout);
        int s = layout.slotsPerCall();
        int calls = (drawn.length + s - 1) / s;
        float[] acc = new float[layout.replicas()];
        double host = 0;
        for (int c = 0; c < calls; c++) {
            float[] slot = new float[s];
            for (int k = 0; k < Math.min(s, drawn.length - c * s); k++) slot[planner.slotOf(k)] = drawn[c * s + k];
            for (int r = 0; r < layout.replicas(); r++) {
                for (int a = 0; a < layout.accumulation(); a++) {
                    float t = acc[r];
                    for (int p = 0; p < layout.microBatchSize(); p++) t += slot[layout.slot(r, a, p)];
                    acc[r] = t;
                }
            }
            if (drainEveryCall) {
                host += gcl(acc);
                java.util.Arrays.fill(acc, 0f);
            }
        }
        return host + gcl(acc);
    }

    private static float gcl(float[] acc) {
        float sum = acc[0];
        for (int r = 1; r < acc.length; r++) sum += acc[r];
        return sum;
    }
}
