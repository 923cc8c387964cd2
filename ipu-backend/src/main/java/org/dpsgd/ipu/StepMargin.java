package org.dpsgd.ipu;

import java.math.BigDecimal;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicy;

/**
 * The coupling margin in force for one IPU model ({@link AccumulatorMargin}) and the clip tables it
 * gives: until the trainer tells the step bound B_cap it covers one call per drain, and a second
 * clipped call with real slots before the drain is refused (the margin would not cover it); once
 * told, up to ceil(B_cap / slots per call) such calls, and, when that lowers the bounds less (one
 * instance, several calls), every call drained into a float64 host sum. Kept apart from the native session so that
 * the bounds the device receives are testable without an IPU.
 */
final class StepMargin {
    private final int instances;
    private final boolean stochasticRounding;
    private AccumulatorMargin margin;
    // μ for the last sensitivity seen (one policy per run: recomputed only when it changes).
    private double loweredFor = Double.NaN;
    private BigDecimal lowering;
    // Clipped calls with at least one real slot since the last drain: at most margin.calls().
    private long realCalls;

    /** @param coordinates the trainable coordinates d of the drained sum */
    StepMargin(BatchLayout layout, int instances, boolean stochasticRounding, long coordinates) {
        this.instances = instances;
        this.stochasticRounding = stochasticRounding;
        this.margin = AccumulatorMargin.oneCall(layout, instances, stochasticRounding, coordinates);
    }

    /**
     * B_cap from the trainer: the margin then covers a step of up to B_cap examples on each instance;
     * refused (UserError, one line) when it would lower the bounds by more than {@link AccumulatorMargin#CAP}.
     */
    void boundStepExamples(int maxExamples) {
        AccumulatorMargin next = AccumulatorMargin.cheaper(
                maxExamples, margin.layout(), instances, stochasticRounding, margin.coordinates());
        next.checkCoupling();
        if (realCalls > next.calls())
            throw new IllegalStateException("the step bound was lowered in the middle of a step");
        margin = next;
        loweredFor = Double.NaN;
    }

    /** Whether the model must drain every clipped call into its float64 host sum (the margin assumes it). */
    boolean drainsEveryCall() {
        return margin.drainEveryCall();
    }

    /** The margin in force. */
    AccumulatorMargin margin() {
        return margin;
    }

    /**
     * The clip table of one clipped call, every bound lowered by μ; counts the call when its mask has
     * a real slot, refusing one more such call than the margin covers before a drain.
     */
    float[] tableForCall(ClipPolicy policy, int[] trainable, float[] mask) {
        float[] table = ClipTable.of(policy, trainable, lowering(policy.sensitivity()));
        if (hasRealSlot(mask)) {
            if (realCalls >= margin.calls()) {
                throw new IllegalStateException("a step of more than " + margin.calls() + " clipped call(s) with"
                        + " real examples before a drain is more than the IPU's float32 coupling margin covers"
                        + " (computed for " + margin.examples() + " examples); call boundStepExamples first");
            }
            realCalls++;
        }
        return table;
    }

    /** The accumulators were drained (and zeroed): a new step begins. */
    void drained() {
        realCalls = 0;
    }

    private BigDecimal lowering(double sensitivity) {
        if (Double.compare(sensitivity, loweredFor) != 0) {
            lowering = margin.checkedLowering(sensitivity);
            loweredFor = sensitivity;
        }
        return lowering;
    }

    private static boolean hasRealSlot(float[] mask) {
        for (float v : mask) if (v != 0f) return true;
        return false;
    }
}
