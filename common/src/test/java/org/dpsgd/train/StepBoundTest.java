package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** StepBound against the exact binomial tail, summed here in log space. */
class StepBoundTest {
    /** log P[Binomial(n, q) > b], exact up to float64 rounding: log-sum-exp of the pmf over k > b. */
    private static double logTailAbove(long n, double q, long b) {
        double[] lf = logFactorials(n);
        double max = Double.NEGATIVE_INFINITY;
        double[] terms = new double[(int) (n - b)];
        for (long k = b + 1; k <= n; k++) {
            double t = lf[(int) n] - lf[(int) k] - lf[(int) (n - k)] + k * Math.log(q) + (n - k) * Math.log1p(-q);
            terms[(int) (k - b - 1)] = t;
            max = Math.max(max, t);
        }
        double s = 0;
        for (double t : terms) s += Math.exp(t - max);
        return max + Math.log(s);
    }

    private static final java.util.Map<Long, double[]> TABLES = new java.util.HashMap<>();

    /** log k! for k ≤ n. */
    private static double[] logFactorials(long n) {
        return TABLES.computeIfAbsent(n, m -> {
            double[] lf = new double[(int) (m + 1)];
            for (int i = 2; i <= m; i++) lf[i] = lf[i - 1] + Math.log(i);
            return lf;
        });
    }

    /** The bound's tail is at most 2^−100, and it is not loose by more than a Chernoff bound's usual slack. */
    @ParameterizedTest
    @CsvSource({"300, 0.1333", "1000, 0.01", "5000, 0.2", "60000, 0.0683", "50000, 0.00512", "2000, 0.9"})
    void theTailAboveTheBoundIsBelowTwoToTheMinus100(long n, double q) {
        int b = StepBound.poisson(n, q);
        assertTrue(b > n * q && b <= n, "bound " + b);
        if (b < n) assertTrue(logTailAbove(n, q, b) <= -100 * Math.log(2), "tail above " + b);
        // The smallest b with an exact tail ≤ 2^−100 is not far below: within 1.5× the deviation from the mean.
        long exact = b;
        while (exact > n * q && logTailAbove(n, q, exact - 1) <= -100 * Math.log(2)) exact--;
        assertTrue(b - n * q <= 1.5 * (exact - n * q) + 2, "bound " + b + " vs exact " + exact);
    }

    @Test
    void fullSamplingAndTinyPopulationsAreTheirOwnBound() {
        assertEquals(500, StepBound.poisson(500, 1.0));
        assertEquals(3, StepBound.poisson(3, 0.5), "no b below n has a tail of 2^-100");
        assertThrows(IllegalArgumentException.class, () -> StepBound.poisson(10, 0));
    }

    /**
     * (B + a + P)·P·(B + E) ≤ 2^37: 370,727 on one process, refused one above (370,728·370,729 >
     * 2^37); 131,068 on 8 processes, refused at 131,069; 500,000 gradient canaries (a = 1) beside
     * 1,000 examples, but not input canaries (a = E).
     */
    @Test
    void theMarginRefusesBoundsItDoesNotCover() {
        StepBound.check(370_727, 0, 0, 1);
        assertThrows(UserError.class, () -> StepBound.check(370_728, 0, 0, 1));
        StepBound.check(131_068, 0, 0, 8);
        UserError e = assertThrows(UserError.class, () -> StepBound.check(131_069, 0, 0, 8));
        assertTrue(e.getMessage().contains("batch_size"), e.getMessage());
        assertTrue(e.getMessage().contains("about 131068 examples"), e.getMessage());
        StepBound.check(1_000, 500_000, 1, 1);
        assertThrows(UserError.class, () -> StepBound.check(1_000, 500_000, 500_000, 1));
        assertThrows(IllegalArgumentException.class, () -> StepBound.check(1_000, 5, 6, 1));
    }

    /**
     * The project's large-batch targets fit: Kurakin et al.'s logical batch 32,768 of ImageNet's
     * 1,281,167 examples under Poisson sampling on 8 processes (B_cap = 34,904), and De et al.'s 16,384
     * (CIFAR-10, N = 50,000) on one process; 3× Kurakin's expected batch on 8 processes still fits, 4×
     * (B_cap = 135,149 > 131,068) is refused.
     */
    @Test
    void largeLogicalBatchesOnManyProcessesAreAccepted() {
        int kurakin = StepBound.poisson(1_281_167, 32_768.0 / 1_281_167);
        assertTrue(kurakin > 32_768 && kurakin < 36_000, "B_cap " + kurakin);
        StepBound.check(kurakin, 0, 0, 8);
        StepBound.check(StepBound.poisson(50_000, 16_384.0 / 50_000), 0, 0, 1);
        StepBound.check(StepBound.poisson(1_281_167, 3 * 32_768.0 / 1_281_167), 0, 0, 8);
        assertThrows(
                UserError.class,
                () -> StepBound.check(StepBound.poisson(1_281_167, 4 * 32_768.0 / 1_281_167), 0, 0, 8));
    }
}
