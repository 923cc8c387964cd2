package org.dpsgd.train;

import org.dpsgd.UserError;

/**
 * A data-independent bound on the examples of one logical step, B_cap, which the clipping's float
 * margin needs (docs/core.md, "Float margin", item 5): removing one example repacks every later
 * example into other slots and calls, so the rounding terms that move with it are summed over the
 * whole step, and their count must not depend on the draw (which depends on that example).
 *
 * <p>Under Poisson sampling of n examples at rate q the bound is a Chernoff tail:
 * the smallest b with P[Binomial(n, q) > b] ≤ 2^−{@value #TAIL_BITS}, so a draw beyond it, which the
 * trainer refuses, has probability ≤ 2^−100 per step and process (n itself when no smaller b
 * qualifies: then no draw exceeds it); halting on it adds (1 + e^ε)·P·T·2^−100 to δ over T steps on
 * P processes. It depends only on n and q, which the run already treats as public (q·N is the
 * divisor; neighbouring datasets are compared at the same N). A fixed call count or shuffle sampling
 * may give a smaller deterministic bound; with maxCalls that bound is the user's, not the 2^−100
 * tail, and the planner refuses a draw above it (docs/core.md, "Float margin", item 5).
 *
 * <p>B_cap counts the examples the backend clips in the step's calls; extra examples (audit
 * canaries, added on the host) are counted apart, by their public number E and by how many of
 * them can add to one coordinate, a. The margin holds while (B_cap + a + P)·P·(B_cap + E) ≤ 2^37 for
 * P processes ({@link #check}): then the float64 accumulators and the cross-process float64 sum
 * move by at most 2^−15·C(1 + 2^−14) when one example is removed (about 370,000 examples on one
 * process, 131,000 on 8).
 */
public final class StepBound {
    /** P[draw > bound] ≤ 2^−TAIL_BITS per step. */
    public static final int TAIL_BITS = 100;
    /**
     * (B_cap + a + P)·P·(B_cap + E) must not exceed this (docs/core.md, "Float margin", item 5): the
     * accumulators' term is 2·γ_n·P·(B_cap + E)·C(1 + 2^−15) with n = B_cap + a + P, so a product X
     * gives 2X·2^−53/(1 − n·2^−53)·(1 + 2^−15), which is ≤ 2^−15·(1 + 2^−14) for X ≤ 2^37.
     */
    public static final double MAX_PRODUCT = 0x1p37;

    private StepBound() {}

    /**
     * The smallest b ≥ 0 with P[Binomial(n, q) > b] ≤ 2^−{@value #TAIL_BITS} by the Chernoff bound
     * P[X ≥ a] ≤ exp(−n·KL(a/n ‖ q)) for a > nq, or n when none below n qualifies.
     */
    public static int poisson(long n, double q) {
        if (n < 0 || n > Integer.MAX_VALUE) throw new IllegalArgumentException("population " + n + " out of range");
        if (!(q > 0 && q <= 1)) throw new IllegalArgumentException("sampling rate must be in (0, 1], got " + q);
        if (q == 1) return (int) n;
        // One bit more than asked for, to cover the rounding of the logarithms below.
        double needed = (TAIL_BITS + 1) * Math.log(2);
        for (long a = (long) Math.floor(n * q) + 1; a <= n; a++) {
            if (n * kl((double) a / n, q) >= needed) return (int) (a - 1); // P[X > a−1] = P[X ≥ a]
        }
        return (int) n;
    }

    /** KL(a ‖ q) between Bernoulli(a) and Bernoulli(q), for q < a ≤ 1. */
    static double kl(double a, double q) {
        double first = a * Math.log(a / q);
        double second = a == 1 ? 0 : (1 - a) * (Math.log1p(-a) - Math.log1p(-q));
        return first + second;
    }

    /**
     * Refuses what the margin does not cover: (bound + extraAdds + processes)·processes·(bound +
     * extras) above 2^37, with one line naming the fix. {@code bound} is B_cap, {@code extras} the
     * number of extra examples, {@code extraAdds} how many of them can add to one coordinate.
     */
    public static void check(int bound, int extras, int extraAdds, int processes) {
        if (processes < 1) throw new IllegalArgumentException("processes must be >= 1, got " + processes);
        if (extras < 0 || extraAdds < 0 || extraAdds > extras)
            throw new IllegalArgumentException("extra examples " + extras + ", adds per coordinate " + extraAdds);
        double product = ((double) bound + extraAdds + processes) * processes * ((double) bound + extras);
        if (product > MAX_PRODUCT) {
            throw new UserError("a logical step may hold up to " + bound + " examples (the bound the float margin"
                    + " of clipping is computed for) and " + extras + " extra examples on " + processes
                    + " process(es); the margin covers (B + a + P)·P·(B + E) ≤ 2^37, i.e. about "
                    + (long) Math.floor(maxBound(processes)) + " examples on their own here;"
                    + " use a smaller training.batch_size (or fewer canaries)");
        }
    }

    /** The largest B with (B + P)·P·B ≤ 2^37, for the message. */
    private static double maxBound(int processes) {
        double p = processes;
        return (-p + Math.sqrt(p * p + 4 * MAX_PRODUCT / p)) / 2;
    }
}
