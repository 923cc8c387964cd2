package org.dpsgd.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;

/**
 * Masked Poisson batching for static shapes (Beltran et al. 2024): a logical batch of variable
 * size L becomes ceil(L / S) device calls of exactly S = {@code layout.slotsPerCall()} slots, the
 * unused slots being masked padding, so a compiled device program never sees a new shape.
 *
 * <p>Within a call the examples are dealt round-robin over replicas (example k goes to replica
 * k mod R, then fills that replica's micro-batches in order), so replicas get equal work to within
 * one example and padding collects at the end of each replica's last micro-batches.
 *
 * <p>With {@code maxCalls} every step has exactly that many calls (for devices that compile the
 * whole step); a batch that does not fit is refused, never truncated, because dropping sampled
 * examples would change the sampling distribution the accountant assumes.
 */
public final class StaticShapePlanner {
    private final BatchLayout layout;
    private final int maxCalls;

    /** A planner that uses as many calls per step as each batch needs: ceil(L / slots per call). */
    public StaticShapePlanner(BatchLayout layout) {
        this(layout, 0);
    }

    /** @param maxCalls fixed number of calls per step, or 0 for ceil(L / S) */
    public StaticShapePlanner(BatchLayout layout, int maxCalls) {
        if (maxCalls < 0)
            throw new IllegalArgumentException("maxCalls must be >= 0 (0 = as many as needed), got " + maxCalls);
        this.layout = layout;
        this.maxCalls = maxCalls;
    }

    /** The fixed shape of every call this planner makes. */
    public BatchLayout layout() {
        return layout;
    }

    /**
     * Places the sampled {@code examples} (dataset indices, in order) into device calls; an empty batch gives no calls
     * unless maxCalls is set. Every example lands in exactly one slot; with maxCalls, a batch that needs more calls is
     * refused with IllegalStateException, never truncated.
     */
    public StepPlan plan(int[] examples) {
        int slots = layout.slotsPerCall();
        int needed = (examples.length + slots - 1) / slots;
        if (maxCalls > 0 && needed > maxCalls) {
            throw new UserError(
                    "the sampled batch of " + examples.length + " examples needs " + needed
                            + " device calls but the step is fixed at maxCalls=" + maxCalls + " (" + slots
                            + " slots each); "
                            + "raise maxCalls (examples are never dropped: that would break the Poisson sampling the accountant assumes)");
        }
        int calls = maxCalls > 0 ? maxCalls : needed;
        List<DeviceCall> out = new ArrayList<>(calls);
        for (int c = 0; c < calls; c++) {
            int[] ids = new int[slots];
            int[] pos = new int[slots];
            Arrays.fill(ids, -1);
            Arrays.fill(pos, -1);
            int first = c * slots;
            int count = Math.max(0, Math.min(slots, examples.length - first));
            for (int k = 0; k < count; k++) {
                int s = slotOf(k);
                ids[s] = examples[first + k];
                pos[s] = first + k;
            }
            out.add(new DeviceCall(ids, pos));
        }
        return new StepPlan(layout, examples.length, out);
    }

    /** Slot of the k-th example of a call: round-robin over replicas, then micro-batches in order. */
    public int slotOf(int k) {
        int r = k % layout.replicas();
        int within = k / layout.replicas();
        return layout.slot(r, within / layout.microBatchSize(), within % layout.microBatchSize());
    }
}
