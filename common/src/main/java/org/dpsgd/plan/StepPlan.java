package org.dpsgd.plan;

import java.util.List;
import org.dpsgd.backend.BatchLayout;

/**
 * The device calls of one logical step. {@code realizedSize} is the Poisson draw L; it is a
 * diagnostic only and must never scale the private update (that would leak L).
 */
public record StepPlan(BatchLayout layout, int realizedSize, List<DeviceCall> calls) {
    public StepPlan {
        calls = List.copyOf(calls);
    }

    /** Masked slots over all calls of this step: calls · slots per call − realized size. */
    public int paddingSlots() {
        return calls.size() * layout.slotsPerCall() - realizedSize;
    }
}
