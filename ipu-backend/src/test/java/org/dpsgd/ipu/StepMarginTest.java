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
        float[] first = m.tableForCall(FLAT, ONE_TENSOR, mask(true));
        for (int c = 1; c < 13; c++) assertEquals(first[0], m.tableForCall(FLAT, ONE_TENSOR, mask(true))[0]);
        assertThrows(IllegalStateException.class, () -> m.tableForCall(FLAT, ONE_TENSOR, mask(true)));
        m.drained();
        // The bound is C(1 − μ) rounded down, μ that of B = 100 in this layout.
        BigDecimal mu = new AccumulatorMargin(100, LAYOUT, 1, false, 1000).lowering(1.0);
        assertEquals(AccumulatorMargin.lower(1.0, mu), first[0]);
        assertTrue(mu.compareTo(AccumulatorMargin.pow2(-9)) < 0 && mu.compareTo(AccumulatorMargin.pow2(-10)) > 0);
    }

    @Test
    void aStepBoundAboveTheCapIsRefusedBeforeAnyCall() {
        StepMargin m = new StepMargin(LAYOUT, 1, false, 1000);
        UserError e = assertThrows(UserError.class, () -> m.boundStepExamples(4840));
        assertTrue(e.getMessage().contains("float32"), e.getMessage());
        assertEquals(LAYOUT.slotsPerCall(), m.margin().examples(), "the refused bound is not taken");
        m.boundStepExamples(361);
        assertEquals(361, m.margin().examples());
    }

    @Test
    void underPoprunTheLeavesAreEveryInstancesExamples() {
        StepMargin one = new StepMargin(LAYOUT, 1, false, 1000);
        StepMargin four = new StepMargin(LAYOUT, 4, false, 1000);
        one.boundStepExamples(50);
        four.boundStepExamples(50);
        assertEquals(50, one.margin().leaves());
        assertEquals(200, four.margin().leaves());
        assertEquals(one.margin().roundings() + 3, four.margin().roundings()); // GCL over 4 replicas, not 1
    }
}
