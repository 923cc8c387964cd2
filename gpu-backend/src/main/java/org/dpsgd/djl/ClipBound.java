package org.dpsgd.djl;

import org.dpsgd.UserError;

/**
 * The float margin that makes ‖clipped g_i‖ ≤ C_l hold for the value actually summed, not just in
 * exact arithmetic. Norms, error bounds and clipped sums are computed in float64 (whatever the
 * model's dtype) from the per-sample tensors the backward pass produced; the accumulator is
 * float64 and is drained in float64: the trainer adds the noise to it before any rounding to
 * float32, so that rounding is post-processing. Derivation: docs/core.md, "Float margin".
 *
 * <ul>
 *   <li>Where a slot's gradient is formed (microbatch; explicit conv gradients, biases, GroupNorm),
 *       its norm and its clipped sum come from the same formed float64 values, so every rounding
 *       error is relative: each float64 reduction of fewer than 2^32 terms is off by at most
 *       {@link #GAMMA} relative to its (here all non-negative, or per-entry) terms. The forming itself
 *       may round (an explicit conv of a float32 model forms its gradient in float32): what is
 *       bounded is the formed value, a function of its own example, cast up exactly.
 *   <li>Where it is not (ghost norms ⟨aaᵀ, ggᵀ⟩ and the one-matmul sum (c∘g)ᵀa over T' rows per
 *       slot), errors are bounded by M_i = Σ_t ‖a_t‖‖g_t‖, not by ‖G_i‖: a tap reports
 *       {@code normSlack} = γ(d + p + T'²)·M² ≥ |n̂² − ‖G‖²| and {@code sumSlack} = (γ(rows)·M)²,
 *       the square of a bound on the clipped sum's error per unit factor, with γ(n) from {@link #gamma}.
 *   <li>The norm the factor is computed from is n_eff = sqrt(n̂² + Σ normSlack)·(1 + γ) + sqrt(Σ sumSlack)
 *       per group, so c·n_eff ≥ ‖value summed‖ before the last relative roundings; {@link #MARGIN}
 *       η covers those (scaling, the slot sum, the float64 accumulator over calls, each (1 + γ))
 *       and the cross terms below: (1 + 2^−20)^4 (1 − 2^−12) + 2^−14 + 2^−15 + 2^−15·(1 + 2^−14) < 1
 *       (exact rationals: 1 − 0.969·2^−13; MarginBudgetTest).
 *   <li>Neighbouring datasets: removing one example changes how the other examples' terms round,
 *       in every call of the step (later examples are repacked into other slots and calls). With
 *       B the trainer's data-independent bound on the step's examples
 *       ({@code TrainableModel.boundStepExamples}; the call's slots when not told): a one-matmul sum
 *       moves by up to 2·Σ_j c_j·sqrt(sumSlack_j) over the step, so the factor is taken from
 *       max(n_eff, κ·sqrt(sumSlack)) with κ = 2·B/{@link #CROSS}: then that is ≤ η'·C. Formed
 *       terms' float64 slot sums move by ≤ 4(N + 4)·B·2^−53·C ≤ 2^−16·(1 + 2^−13)·C ≤ 2^−15·C
 *       ({@link #MAX_SLOTS}, {@link #MAX_STEP_EXAMPLES}); the float64 accumulator and the
 *       cross-process sum by ≤ 2^−15·(1 + 2^−14)·C (the trainer's StepBound.check).
 * </ul>
 */
final class ClipBound {
    /** Relative error bound of a float64 reduction of fewer than 2^32 terms: 2^32 · 2^−53, rounded up to 2^−20. */
    static final double GAMMA = 0x1p-20;
    /**
     * Relative shrink of every bound: factors are min(1, C(1 − η)/n_eff). η = 2^−12 (0.024%) pays for
     * the cross terms η' = 2^−14 and 2·2^−15 (F and A) with room: the sum stays below 1 − 2^−14.
     */
    static final double MARGIN = 0x1p-12;
    /** Tensors a tap reduces over must stay below this many elements for {@link #GAMMA} to hold. */
    static final long MAX_REDUCTION = 1L << 31;

    private ClipBound() {}

    /**
     * Error bound of a float64 computation whose longest chain of additions has {@code n} terms,
     * relative to the sum of the magnitudes of its terms: γ_n = n·u/(1 − n·u) with u = 2^−53,
     * doubled (and n padded by 4) to cover the few extra roundings around it (products, square roots, M itself).
     */
    static double gamma(long n) {
        return 2.0 * (n + 4) * 0x1p-53;
    }

    /**
     * Share of C that the rounding of the OTHER slots' terms in a one-matmul sum may move when one
     * example is added or removed: factors are capped so that Σ_j 2·c_j·sqrt(sumSlack_j) ≤ η'·C.
     * The cap binds when M/‖G‖ ≳ η'·2^51/(B·rows) = 2^37/(B·rows) on a ghost layer.
     */
    static final double CROSS = 0x1p-14;

    /**
     * Most slots per call (N). With B ≤ {@link #MAX_STEP_EXAMPLES} the formed slot sums' cross term
     * 4(N + 4)·B·2^−53·C stays ≤ 2^−15·C.
     */
    static final int MAX_SLOTS = 1 << 15;

    /**
     * Most examples per step (B) the margin covers: with N ≤ {@link #MAX_SLOTS}, 4(N + 4)·B·2^−53 ≤
     * 2^−15 needs (N + 4)·B ≤ 2^36, i.e. B ≤ 2,096,896; 2^20 gives (2^15 + 4)·2^20 = 2^35(1 + 2^−13),
     * half the budget. The trainer's StepBound.check, which also covers the accumulators, is
     * stricter (about 370,000 on one process).
     */
    static final int MAX_STEP_EXAMPLES = 1 << 20;

    /** The norm the factor is computed from: ≥ the true norm of the summed value (see class comment). */
    static double boundingNorm(double squaredNorm, double normSlack, double sumSlack) {
        return Math.sqrt(Math.max(0, squaredNorm) + normSlack) * (1 + GAMMA) + Math.sqrt(sumSlack);
    }

    /**
     * {@link #boundingNorm}, raised where needed to κ·sqrt(sumSlack) with κ = 2·slots/η' ({@link #CROSS}),
     * {@code slots} being the most real examples of the step (B): then c·sqrt(sumSlack) ≤ η'·C/(2·B)
     * for every example, so the rounding of the one-matmul sums that moves with the other examples'
     * terms, ≤ 2·Σ_j c_j·sqrt(sumSlack_j) over the step with and without one example, stays ≤ η'·C
     * (docs/core.md, "Float margin", item 5). It binds only under heavy cancellation (M far above
     * ‖G‖); 0 slack, no change.
     */
    static double boundingNorm(double squaredNorm, double normSlack, double sumSlack, int slots) {
        double cross = 2.0 * slots / CROSS * Math.sqrt(sumSlack);
        return Math.max(boundingNorm(squaredNorm, normSlack, sumSlack), cross);
    }

    /** min(1, C(1 − η)/n) for a bounding norm n. */
    static double factor(double boundingNorm, double threshold) {
        double c = threshold * (1 - MARGIN);
        return boundingNorm <= c ? 1.0 : c / boundingNorm;
    }

    static void checkSlots(int slots) {
        if (slots > MAX_SLOTS) {
            throw new UserError("a device call has " + slots + " slots, beyond the " + MAX_SLOTS
                    + " the clipping error bound is proven for; use a smaller micro_batch_size");
        }
    }

    /** Refuses a step bound B outside [1, {@link #MAX_STEP_EXAMPLES}]. */
    static void checkStepExamples(int examples) {
        if (examples < 1 || examples > MAX_STEP_EXAMPLES) {
            throw new UserError("a logical step may hold up to " + examples + " examples, beyond the "
                    + MAX_STEP_EXAMPLES + " the clipping error bound is proven for; use a smaller batch_size");
        }
    }

    static void checkSize(long elements, String what) {
        if (elements >= MAX_REDUCTION) {
            throw new UserError(
                    what + " has " + elements + " elements, beyond the 2^31 the clipping error bound is proven for;"
                            + " use a smaller micro_batch_size");
        }
    }
}
