package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Network;

/** What every strategy shares: the device manager, parameters, lowered network, and batch-to-array helpers. */
final class ModelRuntime {
    final Network network;
    final NDManager manager;
    final Precision precision;
    final ParameterStore store;
    final LoweredNetwork lowered;
    // B_cap, the step bound the trainer gave (TrainableModel.boundStepExamples); 0 = not told: a
    // step of one call, whose real examples are at most its slots.
    int stepExamples;
    // The book-keeping taps' post-backward work, on one thread or two (backend setting parallel_taps).
    TapPhases taps;
    // Whether book-keeping may cut the graph at tapped outputs of a chain network (backend setting graph_cuts).
    boolean graphCuts = true;
    // One copy per batch into reused native buffers (padding slots as zeros).
    private final HostStaging staging = new HostStaging();

    ModelRuntime(
            Network network,
            NDManager manager,
            Precision precision,
            ParameterStore store,
            Constants constants,
            RuleOptions rules) {
        this.network = network;
        this.manager = manager;
        this.precision = precision;
        this.store = store;
        this.lowered = new LoweredNetwork(network, new Lowering(store, constants, rules, LayerRules.STANDARD));
        this.taps = new TapPhases(true, manager.getDevice());
    }

    void checkBatch(DeviceBatch b) {
        if (!b.shape().equals(network.input())) {
            throw new IllegalArgumentException(
                    "batch shape " + b.shape() + " does not match the network input " + network.input());
        }
        for (int i = 0; i < b.slots(); i++) {
            if (b.mask()[i] != 0f && (b.labels()[i] < 0 || b.labels()[i] >= network.numClasses())) {
                throw new IllegalArgumentException(
                        "slot " + i + " has label " + b.labels()[i] + " outside [0, " + network.numClasses() + ")");
            }
        }
    }

    /** Inputs of slots [from, from+count) with all their copies: [count*K, C, H, W]. */
    NDArray inputs(DeviceBatch b, int from, int count) {
        // Staged in the master type (float32 or float64, what the staging buffers hold), then rounded to a
        // 16-bit compute type if mixed.
        return precision.toCompute(staging.inputs(manager, precision.master, b, from, count));
    }

    /** One-hot labels of slots [from, from+count), repeated for each copy: [count*K, classes], in the loss's (master) type. */
    NDArray oneHot(DeviceBatch b, int from, int count) {
        int k = b.multiplicity();
        int classes = network.numClasses();
        double[] h = new double[count * k * classes];
        for (int i = 0; i < count; i++) {
            int label = b.labels()[from + i];
            if (label < 0 || label >= classes) continue; // padding slot with a junk label: all-zero row
            for (int c = 0; c < k; c++) h[(i * k + c) * classes + label] = 1.0;
        }
        return precision.create(manager, h, new Shape((long) count * k, classes));
    }

    NDArray mask(DeviceBatch b) {
        double[] m = new double[b.slots()];
        for (int i = 0; i < m.length; i++) m[i] = b.mask()[i] != 0f ? 1.0 : 0.0;
        return precision.create(manager, m, new Shape(m.length));
    }

    /**
     * Per-slot cross-entropy [count]: the mean over the slot's copies of -log softmax at the label;
     * 16-bit logits are cast to fp32 first (as autocast does), so the softmax never runs in half precision.
     */
    static NDArray perSlotLoss(NDArray logits, NDArray oneHot, int count, int copies) {
        NDArray nll =
                Precision.logSoftmax(logits).mul(oneHot).sum(new int[] {1}).neg();
        return copies == 1 ? nll : nll.reshape(count, copies).mean(new int[] {1});
    }

    /** Predicted class per slot, from the copies' mean logits. */
    static long[] predictions(NDArray logits, int count, int copies) {
        NDArray l = copies == 1 ? logits : logits.reshape(count, copies, -1).mean(new int[] {1});
        return l.argMax(1).toLongArray();
    }

    /**
     * Back-propagates a scalar, times the loss scale (DJL's collector allows one per process, so this
     * calls the engine directly). Gradients are read back through {@link ParameterStore#gradient}.
     */
    void backward(NDArray scalar) {
        NDArray seed = store.lossScale().seed(manager, scalar);
        JniUtils.backward((PtNDArray) scalar, (PtNDArray) seed, false, false);
    }

    /** Runs {@code body} with autograd recording on, restoring the previous mode afterwards. */
    static <T> T withGrad(java.util.function.Supplier<T> body) {
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(previous);
        }
    }

    static <T> T withoutGrad(java.util.function.Supplier<T> body) {
        boolean previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            return body.get();
        } finally {
            JniUtils.setGradMode(previous);
        }
    }
}
