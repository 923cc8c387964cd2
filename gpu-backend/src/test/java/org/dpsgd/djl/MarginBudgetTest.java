package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.dpsgd.train.StepBound;
import org.junit.jupiter.api.Test;

/**
 * The float margin's budget (docs/core.md, "Float margin", items 4–5) in exact arithmetic: every
 * constant is a power of two or a small integer, so each quantity is a dyadic rational and
 * BigDecimal holds it exactly (no division is taken: 1/(1 − n·u) is moved to the other side).
 */
class MarginBudgetTest {
    private static final BigDecimal ONE = BigDecimal.ONE;
    private static final BigDecimal U = pow2(-53);
    /** Budget of the formed slot sums' term F (with and without the example). */
    private static final BigDecimal F_BUDGET = pow2(-15);
    /** Budget of the accumulators' and cross-process sum's term A. */
    private static final BigDecimal A_BUDGET = pow2(-15).multiply(ONE.add(pow2(-14)));

    static BigDecimal pow2(int k) {
        return k >= 0 ? new BigDecimal(java.math.BigInteger.ONE.shiftLeft(k)) : ONE.divide(pow2(-k));
    }

    static BigDecimal exact(double v) {
        return new BigDecimal(v);
    }

    /** (1 + γ)^4 (1 − η) + η' + F + A < 1: the sensitivity of the summed value stays below C. */
    @Test
    void theBudgetSumsToLessThanOne() {
        BigDecimal own = ONE.add(exact(ClipBound.GAMMA)).pow(4).multiply(ONE.subtract(exact(ClipBound.MARGIN)));
        BigDecimal total = own.add(exact(ClipBound.CROSS)).add(F_BUDGET).add(A_BUDGET);
        assertTrue(total.compareTo(ONE.subtract(pow2(-14))) < 0, "total " + total);
    }

    /** F: 4(S + 4)·B·2^−53 ≤ 2^−15 for S ≤ MAX_SLOTS slots per call and B ≤ MAX_STEP_EXAMPLES. */
    @Test
    void theFormedSlotSumsFitTheirBudget() {
        BigDecimal f = BigDecimal.valueOf(4L * (ClipBound.MAX_SLOTS + 4) * ClipBound.MAX_STEP_EXAMPLES)
                .multiply(U);
        assertTrue(f.compareTo(F_BUDGET) <= 0, "F " + f);
        BigDecimal twice = BigDecimal.valueOf(8L * (ClipBound.MAX_SLOTS + 4) * ClipBound.MAX_STEP_EXAMPLES)
                .multiply(U);
        assertTrue(twice.compareTo(F_BUDGET) > 0, "MAX_STEP_EXAMPLES could double: the limit is not tight");
    }

    /**
     * A: 2·γ_n·P·(B + E)·(1 + 2^−15) ≤ A_BUDGET with n = B + a + P, γ_n = n·u/(1 − n·u) and
     * X = n·P·(B + E) ≤ MAX_PRODUCT (so n ≤ X): it suffices that 2X·u·(1 + 2^−15) ≤ A_BUDGET·(1 − X·u).
     */
    @Test
    void theAccumulatorsFitTheirBudget() {
        BigDecimal x = exact(StepBound.MAX_PRODUCT);
        BigDecimal lhs = BigDecimal.valueOf(2).multiply(x).multiply(U).multiply(ONE.add(pow2(-15)));
        BigDecimal rhs = A_BUDGET.multiply(ONE.subtract(x.multiply(U)));
        assertTrue(lhs.compareTo(rhs) <= 0, "A " + lhs + " > " + rhs);
        BigDecimal doubled = lhs.multiply(BigDecimal.valueOf(2));
        assertTrue(doubled.compareTo(A_BUDGET) > 0, "MAX_PRODUCT could double: the limit is not tight");
    }

    /** GAMMA bounds γ_n = n·u/(1 − n·u) for every float64 reduction of fewer than 2^32 terms. */
    @Test
    void gammaCoversReductionsBelow2To32Terms() {
        BigDecimal nu = pow2(32).multiply(U);
        BigDecimal gamma = exact(ClipBound.GAMMA);
        assertTrue(nu.compareTo(gamma.multiply(ONE.subtract(nu))) <= 0);
    }
}
