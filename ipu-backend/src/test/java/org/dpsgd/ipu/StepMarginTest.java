package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicy;
import org.junit.jupiter.api.Test;

/**
 * The model-side bookkeeping of the coupling margin (what IpuTrainableModel delegates to): the clip
 * tables it sends, the one-call limit of a model not told the step bound, the call limit of a told
 * one, and the refusal of a step bound the cap does not allow.
 */
class StepMarginTest {
    private static final BatchLayout LAYOUT = new BatchLayout(1, 8, 1);
    private static final ClipPolicy FLAT = ClipPolicy.flat(1.0);
    private static final int[] ONE_TENSOR = {0};

    private static float[] mask(boolean real) {
        float[] m = new float[LAYOUT.slotsPerCall()];
        if (real) m[3] = 1f;
        return m;
    }

    @Test
    void anUntoldModelCoversOneCallPerDrain() {
        StepMargin m = new StepMargin(LAYOUT, 1, false, 1000);
        assertEquals(LAYOUT.slotsPerCall(), m.margin().examples());
        float[] table = m.tableForCall(FLAT, ONE_TENSOR, mask(true));
        assertTrue(table[0] < 1.0f, "lowered even for one call: " + table[0]);
        m.tableForCall(FLAT, ONE_TENSOR, mask(false)); // all padding adds exactly nothing: not counted
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> m.tableForCall(FLAT, ONE_TENSOR, mask(true)));
        assertTrue(e.getMessage().contains("boundStepExamples"), e.getMessage());
        m.drained();
        m.tableForCall(FLAT, ONE_TENSOR, mask(true));
    }

    @Test
    void aToldModelCoversTheStepsCallsAndNoMore() {
        StepMargin m = new StepMargin(LAYOUT, 1, false, 1000);
        m.boundStepExamples(100); // ceil(100 / 8) = 13 calls
        assertEquals(13, m.margin().calls());
        // 13 calls: draining each into the float64 host sum (8 roundings a leaf) beats one drain (100).
        assertTrue(m.drainsEveryCall());
        assertEquals(8, m.margin().roundings());
        float[] first = m.tableForCall(FLAT, ONE_TENSOR, mask(true));
        for (int c = 1; c < 13; c++) assertEquals(first[0], m.tableForCall(FLAT, ONE_TENSOR, mask(true))[0]);
        assertThrows(IllegalStateException.class, () -> m.tableForCall(FLAT, ONE_TENSOR, mask(true)));
        m.drained();
        // The bound is C(1 − μ) rounded down, μ that of B = 100 in this layout with a drain per call:
        // 2·8·100·2^-24 + 2^-14 (+ ν), between 2^-13 and 2^-12.
        BigDecimal mu = new AccumulatorMargin(100, LAYOUT, 1, false, 1000, true).lowering(1.0);
        assertEquals(AccumulatorMargin.lower(1.0, mu), first[0]);
        assertTrue(mu.compareTo(AccumulatorMargin.pow2(-12)) < 0 && mu.compareTo(AccumulatorMargin.pow2(-13)) > 0);
        // One drain per step would have needed 2·100²·2^-24 + 2^-14, about 8× more.
        BigDecimal once = new AccumulatorMargin(100, LAYOUT, 1, false, 1000).lowering(1.0);
        assertTrue(once.compareTo(mu.multiply(BigDecimal.valueOf(7))) > 0);
    }

    @Test
    void aStepBoundAboveTheCapIsRefusedBeforeAnyCall() {
        StepMargin m = new StepMargin(LAYOUT, 1, false, 1000);
        // With a drain per call a leaf sees 8 roundings: 2·8·B·2^-24 + 2^-14 passes 2^-6 above B = 16,319.
        m.boundStepExamples(16_319);
        assertThrows(UserError.class, () -> m.boundStepExamples(16_320));
        UserError e = assertThrows(UserError.class, () -> m.boundStepExamples(20_000));
        assertTrue(e.getMessage().contains("float32"), e.getMessage());
        assertEquals(16_319, m.margin().examples(), "the refused bound is not taken");
    }

    @Test
    void underPoprunTheLeavesAreEveryInstancesExamples() {
        StepMargin one = new StepMargin(LAYOUT, 1, false, 1000);
        StepMargin four = new StepMargin(LAYOUT, 4, false, 1000);
        one.boundStepExamples(50);
        four.boundStepExamples(50);
        assertEquals(50, one.margin().leaves());
        assertEquals(200, four.margin().leaves());
        // Several instances drain once per step (a drain is a collective all of them must join).
        assertTrue(one.drainsEveryCall());
        assertTrue(!four.drainsEveryCall());
        AccumulatorMargin stepOne = new AccumulatorMargin(50, LAYOUT, 1, false, 1000);
        assertEquals(stepOne.roundings() + 3, four.margin().roundings()); // GCL over 4 replicas, not 1
    }
}
