package org.dpsgd.ipu;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;

/**
 * How much the IPU lowers every clip bound so that the device's float32 accumulators, which couple
 * examples' roundings, keep the sensitivity of the drained sum at or below C (docs/ipu.md, "The
 * coupling margin"; the float64 analogue is docs/core.md "Float margin" item 5 (A), (F)).
 *
 * <p>The argument, per coordinate of the drained sum (every count below is data-independent):
 *
 * <ul>
 *   <li>The leaves are the examples' own clipped values t_j (the 2^−10 margin of ClipExpr.hpp bounds
 *       each ‖t_j‖ by its table bound); padding leaves are exact zeros and add without rounding.
 *   <li>A leaf passes through at most n = m·M + R_all − 1 float32 roundings: ≤ m in each micro-batch's
 *       {@code reduceWithOutput(acc += Σ of m slots)} (a tree of m + 1 leaves of unknown shape) that
 *       adds a non-zero leaf on its replica, at most M = min(A·K, B) such micro-batches per replica and
 *       step (K = ceil(B/S) calls hold real examples: the planner fills calls in order), and ≤ R_all − 1
 *       in GCL's cross-replica sum over all R_all = instances × replicas (any tree).
 *   <li>Higham's Lemma 3.1 then gives Σ_j t_j(1 + θ_j), |θ_j| ≤ γ_n = n·u/(1 − n·u), so the rounding
 *       A of the step's sum has ‖A‖ ≤ γ_n·Σ_j ‖t_j‖ ≤ γ_n·T·C(1 − μ) with T = instances·B leaves; a
 *       neighbouring dataset has its own A', so the coupling is κ = 2·γ_n·T (relative to C(1 − μ)).
 *   <li>Underflow (flush to zero or gradual) is outside the relative model: each of the at most W = 2 ·
 *       R_all·M·(m + 1) leaf reads and adds per coordinate errs by < 2^−126 absolutely, later roundings
 *       at most double it, over d coordinates: ν = 2·2·W·2^−126·√d / C for both datasets.
 *   <li>The host's float64 part (extras, the MPI sum across processes, and with {@code drainEveryCall}
 *       the sum of the calls' drained float32 sums: ≤ K ≤ B adds) is docs/core.md's (A), at most
 *       2^−15(1 + 2^−14)·C once {@code StepBound.check} passed (the trainer checks it first).
 *   <li>With {@code drainEveryCall} (one instance only) the device's sum starts from zero every call,
 *       so a leaf sees m·min(A, B) + R − 1 roundings instead of m·M + R − 1; the bound on ‖A‖ sums
 *       per call to the same γ_n·T·C(1 − μ).
 * </ul>
 *
 * So with every bound lowered by μ = κ + ν + 2^−14 (rounded up), the sensitivity is at most
 * C·[(1 − μ)(1 + κ) + ν + 2^−15(1 + 2^−14)] ≤ C(1 − 2^−14 + 2^−15 + 2^−29) < C, checked in exact
 * arithmetic by {@link #sensitivityFactor}. u is 2^−24, or 2^−23 with stochastic rounding (fp16 mode:
 * an IPU rounding may then go to either neighbour). A μ above {@link #CAP} is refused.
 *
 * @param examples B, the data-independent bound on one instance's examples in a step (B_cap)
 * @param layout one instance's call shape: m slots per micro-batch, A micro-batches, R replicas
 * @param instances poprun instances whose replicas GCL sums (1 without poprun)
 * @param stochasticRounding whether the device rounds stochastically (u = 2^−23)
 * @param coordinates d, the trainable coordinates the sum has
 * @param drainEveryCall whether the model drains every call into a float64 host sum (else once a step)
 */
record AccumulatorMargin(
        int examples,
        BatchLayout layout,
        int instances,
        boolean stochasticRounding,
        long coordinates,
        boolean drainEveryCall) {
    /** The largest lowering accepted: beyond it the float32 bound is loose and utility suffers. */
    static final double CAP = 0x1p-6;
    /** The share of C kept for docs/core.md's float64 host part (A): 2^−15(1 + 2^−14). */
    static final BigDecimal HOST_FLOAT64 = pow2(-15).multiply(BigDecimal.ONE.add(pow2(-14)));
    /** Slack added to μ so that (1 − μ)(1 + κ) + ν leaves room for the host part. */
    static final BigDecimal SLACK = pow2(-14);

    private static final MathContext UP = new MathContext(34, RoundingMode.CEILING);

    AccumulatorMargin {
        if (examples < 1) throw new IllegalArgumentException("step bound must be >= 1, got " + examples);
        if (instances < 1) throw new IllegalArgumentException("instances must be >= 1, got " + instances);
        if (coordinates < 1) throw new IllegalArgumentException("coordinates must be >= 1, got " + coordinates);
        if (drainEveryCall && instances > 1)
            throw new IllegalArgumentException("a drain per call is a collective of every poprun instance: one only");
    }

    /** The device's accumulators span the step: drained once, after its last call. */
    AccumulatorMargin(int examples, BatchLayout layout, int instances, boolean stochasticRounding, long coordinates) {
        this(examples, layout, instances, stochasticRounding, coordinates, false);
    }

    /**
     * The margin with the cheaper of the two drains: with one instance and more than one call per
     * step, draining every call into a float64 host sum (each call's float32 sum then starts from
     * zero, so a leaf passes through the roundings of its own call only) when that lowers the bounds
     * less; under poprun the drain is a collective every instance must join, so once per step.
     */
    static AccumulatorMargin cheaper(
            int examples, BatchLayout layout, int instances, boolean stochasticRounding, long coordinates) {
        AccumulatorMargin step = new AccumulatorMargin(examples, layout, instances, stochasticRounding, coordinates);
        if (instances > 1 || step.calls() == 1) return step;
        AccumulatorMargin call =
                new AccumulatorMargin(examples, layout, instances, stochasticRounding, coordinates, true);
        return call.coupling().compareTo(step.coupling()) < 0 ? call : step;
    }

    /**
     * The margin of a bare model that was not told the step bound: one call per drain, every slot of
     * every instance possibly real (the model refuses a second call before the drain).
     */
    static AccumulatorMargin oneCall(BatchLayout layout, int instances, boolean stochasticRounding, long coordinates) {
        return new AccumulatorMargin(layout.slotsPerCall(), layout, instances, stochasticRounding, coordinates);
    }

    /** K: the calls of a step that can hold a real example (the planner fills calls in order). */
    long calls() {
        long s = layout.slotsPerCall();
        return (examples + s - 1) / s;
    }

    /** M: micro-batches per replica and step that can add a non-zero leaf. */
    long microBatches() {
        return Math.min((long) layout.accumulation() * calls(), examples);
    }

    /**
     * n: the float32 roundings on any leaf's path to the drained sum: m in each micro-batch after the
     * leaf's own on its replica up to the drain (the step's M, or one call's min(A, B) when every call
     * is drained), then GCL's R_all − 1.
     */
    long roundings() {
        long micro = drainEveryCall ? Math.min(layout.accumulation(), examples) : microBatches();
        return (long) layout.microBatchSize() * micro + replicasAll() - 1;
    }

    /** T: the non-zero leaves of one dataset's step over all instances. */
    long leaves() {
        return (long) instances * examples;
    }

    private long replicasAll() {
        return (long) instances * layout.replicas();
    }

    /** u: 2^−24 (round to nearest), 2^−23 with stochastic rounding. */
    BigDecimal unitRoundoff() {
        return pow2(stochasticRounding ? -23 : -24);
    }

    /** An upper bound on γ_n = n·u/(1 − n·u); IllegalArgumentException when n·u ≥ 1/2 (far past {@link #CAP}). */
    BigDecimal gamma() {
        BigDecimal nu = unitRoundoff().multiply(BigDecimal.valueOf(roundings()));
        if (nu.compareTo(new BigDecimal("0.5")) >= 0)
            throw new IllegalArgumentException("n·u = " + nu + " is not below 1/2");
        return nu.divide(BigDecimal.ONE.subtract(nu), UP);
    }

    /** κ = 2·γ_n·T: the accumulators' coupling over a neighbouring pair, relative to the lowered bound. */
    BigDecimal coupling() {
        return gamma().multiply(BigDecimal.valueOf(2 * leaves()));
    }

    /** ν: the underflow term over a neighbouring pair, relative to the sensitivity C. */
    BigDecimal underflow(double sensitivity) {
        checkSensitivity(sensitivity);
        long w = 2 * replicasAll() * microBatches() * (layout.microBatchSize() + 1L);
        BigDecimal sqrtD = BigDecimal.valueOf(Math.ceil(Math.sqrt((double) coordinates)) + 1); // ≥ √d
        return BigDecimal.valueOf(4 * w).multiply(pow2(-126)).multiply(sqrtD).divide(new BigDecimal(sensitivity), UP);
    }

    /** μ = κ + ν + 2^−14, rounded up: every clip bound is multiplied by 1 − μ before it goes to the device. */
    BigDecimal lowering(double sensitivity) {
        return coupling().add(underflow(sensitivity)).add(SLACK).round(UP);
    }

    /**
     * The sensitivity of the drained-and-noised sum in units of C: (1 − μ)(1 + κ) + ν + 2^−15(1 + 2^−14),
     * exact (no rounding but γ's and the √d's upward ones). Must be ≤ 1.
     */
    BigDecimal sensitivityFactor(double sensitivity) {
        BigDecimal kappa = coupling();
        return BigDecimal.ONE
                .subtract(lowering(sensitivity))
                .multiply(BigDecimal.ONE.add(kappa))
                .add(underflow(sensitivity))
                .add(HOST_FLOAT64);
    }

    /**
     * Refuses, in one line naming the fixes, a step whose coupling alone would lower the bounds by more
     * than {@link #CAP}; before any clipping, when the model is told the step bound.
     */
    void checkCoupling() {
        BigDecimal mu = coupling().add(SLACK);
        if (mu.compareTo(new BigDecimal(CAP)) > 0) refuse(mu);
    }

    /** As {@link #checkCoupling} with the underflow term of this sensitivity; returns μ. */
    BigDecimal checkedLowering(double sensitivity) {
        BigDecimal mu = lowering(sensitivity);
        if (mu.compareTo(new BigDecimal(CAP)) > 0) refuse(mu);
        return mu;
    }

    private void refuse(BigDecimal mu) {
        throw new UserError(String.format(
                "the IPU's float32 accumulators would need the clip bound lowered by %.3g (above the cap 2^-6)"
                        + " for a step of up to %d examples on %d instance(s) in %d call(s) of %s"
                        + " (%d float32 roundings per sum); use a smaller training.batch_size, a smaller training.accumulation"
                        + " or micro-batch, fewer replicas or instances, or backend djl",
                mu.doubleValue(), examples, instances, calls(), layout, roundings()));
    }

    private static void checkSensitivity(double c) {
        if (!(c > 0) || Double.isInfinite(c))
            throw new IllegalArgumentException("sensitivity must be finite and > 0, got " + c);
    }

    /**
     * The largest float ≤ bound·(1 − μ), exactly. Finite bounds only: ClipTable caps bounds past float's
     * range at Float.MAX_VALUE and lowers them like any other (it only shrinks them); the non-private
     * baseline's +infinity table never comes here.
     */
    static float lower(double bound, BigDecimal mu) {
        BigDecimal exact = new BigDecimal(bound).multiply(BigDecimal.ONE.subtract(mu));
        float f = exact.floatValue();
        while (new BigDecimal(f).compareTo(exact) > 0) f = Math.nextDown(f);
        return f;
    }

    static BigDecimal pow2(int e) {
        return e >= 0
                ? new BigDecimal(java.math.BigInteger.TWO.pow(e))
                : BigDecimal.ONE.divide(new BigDecimal(java.math.BigInteger.TWO.pow(-e)));
    }
}
