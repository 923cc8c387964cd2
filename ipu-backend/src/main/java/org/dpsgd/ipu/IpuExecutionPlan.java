package org.dpsgd.ipu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.data.Dataset;
import org.dpsgd.plan.StaticShapePlanner;
import org.dpsgd.plan.StepPlan;

/**
 * The host-side layout of one Poisson-sampled logical batch on the IPU, built on common's
 * {@link StaticShapePlanner} (masked Poisson batching: every call has the same R·A·m slots; examples are
 * dealt round-robin over replicas; padding slots have mask 0). What this adds is the IPU's view of a
 * call: which host buffer range each replica's stream delivers, in the order the on-device
 * {@code Repeat} consumes it.
 *
 * <p>Because {@link BatchLayout#slot} is replica-major, replica r's slots [r·A·m, (r+1)·A·m) are one
 * contiguous range of a {@link DeviceBatch}'s buffers: A micro-batches of m samples, micro-batch a at
 * slots r·A·m + a·m ... + m - 1. The native session reads exactly that range for replica r
 * (native/include/dpsgd_ipu/SessionOptions.hpp, HostLayout), so no host-side reshuffling is needed.
 */
public final class IpuExecutionPlan {
    /** Example id of a padding slot. */
    public static final int PADDING = -1;

    private final BatchLayout layout;
    private final int logicalBatchSize;
    private final List<DeviceCall> calls;

    private IpuExecutionPlan(BatchLayout layout, int logicalBatchSize, List<DeviceCall> calls) {
        this.layout = layout;
        this.logicalBatchSize = logicalBatchSize;
        this.calls = List.copyOf(calls);
    }

    /** Plans a logical batch with as many calls as it needs (zero calls for an empty batch). */
    public static IpuExecutionPlan of(BatchLayout layout, int[] exampleIds) {
        return of(layout, exampleIds, 0);
    }

    /**
     * Plans a logical batch.
     *
     * @param fixedCalls 0: ceil(L / slotsPerCall) calls; > 0: exactly this many calls every step (so the
     *     number of device calls does not depend on L either), and a batch that does not fit is refused
     */
    public static IpuExecutionPlan of(BatchLayout layout, int[] exampleIds, int fixedCalls) {
        if (layout == null) throw new IllegalArgumentException("layout is required");
        if (exampleIds == null)
            throw new IllegalArgumentException("exampleIds is required (an empty array for an empty batch)");
        checkDistinct(exampleIds);
        StepPlan step;
        try {
            step = new StaticShapePlanner(layout, fixedCalls).plan(exampleIds);
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage() + " (IPU: backend.settings.max_calls)", e);
        }
        List<DeviceCall> out = new ArrayList<>(step.calls().size());
        for (int c = 0; c < step.calls().size(); c++)
            out.add(new DeviceCall(c, layout, step.calls().get(c)));
        return new IpuExecutionPlan(layout, exampleIds.length, out);
    }

    private static void checkDistinct(int[] ids) {
        int[] sorted = ids.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (sorted[i] < 0) throw new IllegalArgumentException("example ids must be >= 0, got " + sorted[i]);
            if (i > 0 && sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("example id " + sorted[i] + " appears twice in one logical batch; "
                        + "Poisson sampling includes each example at most once");
            }
        }
    }

    public BatchLayout layout() {
        return layout;
    }

    public int logicalBatchSize() {
        return logicalBatchSize;
    }

    public List<DeviceCall> calls() {
        return calls;
    }

    /** Total padding slots over all calls. */
    public int paddingSlots() {
        return calls.size() * layout.slotsPerCall() - logicalBatchSize;
    }

    /** One device call: R·A·m slots, as common's planner assigned them. */
    public static final class DeviceCall {
        private final int index;
        private final BatchLayout layout;
        private final org.dpsgd.plan.DeviceCall call;

        DeviceCall(int index, BatchLayout layout, org.dpsgd.plan.DeviceCall call) {
            if (call.slots() != layout.slotsPerCall())
                throw new IllegalStateException("planner produced a call of " + call.slots() + " slots");
            this.index = index;
            this.layout = layout;
            this.call = call;
        }

        public int index() {
            return index;
        }

        public int slots() {
            return call.slots();
        }

        public int realCount() {
            return call.realCount();
        }

        public int exampleAt(int replica, int step, int position) {
            return call.exampleIds()[layout.slot(replica, step, position)];
        }

        /** Example id per slot; {@link #PADDING} for padding. A copy. */
        public int[] exampleIds() {
            int[] ids = call.exampleIds().clone();
            for (int s = 0; s < ids.length; s++) if (ids[s] < 0) ids[s] = PADDING;
            return ids;
        }

        /** Position of each slot's example in the logical batch (-1 for padding). A copy. */
        public int[] positions() {
            return call.positions().clone();
        }

        /** 1 for a real example, 0 for padding, per slot. */
        public float[] mask() {
            float[] m = new float[call.slots()];
            for (int s = 0; s < m.length; s++) m[s] = call.isPadding(s) ? 0f : 1f;
            return m;
        }

        /**
         * Writes this call into {@code batch}: every real slot gets its example (the same pixels in each of
         * the K augmentation copies; augmenting them is the data pipeline's job), label, mask 1 and id;
         * padding slots are cleared to zeros with mask 0.
         */
        public void fill(Dataset data, DeviceBatch batch) {
            if (batch.slots() != call.slots()) {
                throw new IllegalArgumentException(
                        "device batch has " + batch.slots() + " slots but the IPU plan's calls have " + call.slots()
                                + " (R·A·m of " + layout + "); allocate it with layout.slotsPerCall()");
            }
            if (!batch.shape().equals(data.shape())) {
                throw new IllegalArgumentException(
                        "device batch shape " + batch.shape() + " differs from the dataset's " + data.shape());
            }
            batch.clear();
            int[] ids = call.exampleIds();
            for (int s = 0; s < ids.length; s++) {
                int id = ids[s];
                if (id < 0) continue;
                for (int k = 0; k < batch.multiplicity(); k++) data.read(id, batch.inputs(), batch.inputOffset(s, k));
                batch.labels()[s] = data.label(id);
                batch.mask()[s] = 1f;
                batch.exampleIds()[s] = id;
            }
        }

        /** The slot range replica {@code r}'s host stream delivers, in stream order. */
        public ReplicaSlice replica(int r) {
            if (r < 0 || r >= layout.replicas())
                throw new IllegalArgumentException("replica " + r + " out of range [0, " + layout.replicas() + ")");
            int per = layout.accumulation() * layout.microBatchSize();
            return new ReplicaSlice(r, r * per, per);
        }
    }

    /**
     * Replica r's part of a call's host buffers: {@code slotCount} consecutive slots from
     * {@code firstSlot}, i.e. A micro-batches of m samples in the order the on-device loop reads them.
     */
    public record ReplicaSlice(int replica, int firstSlot, int slotCount) {
        /** Offset of this replica's samples in a [slots, K, C, H, W] input buffer. */
        public int inputOffset(int multiplicity, int sampleSize) {
            return Math.multiplyExact(Math.multiplyExact(firstSlot, multiplicity), sampleSize);
        }

        public int inputLength(int multiplicity, int sampleSize) {
            return Math.multiplyExact(Math.multiplyExact(slotCount, multiplicity), sampleSize);
        }
    }
}
