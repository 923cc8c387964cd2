package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;

/**
 * The reference (NanoBatch): one forward and backward per real slot (its K copies together), the
 * parameter gradients read, each clip group's norm taken in float64, the group scaled by its
 * factor and added (in float64). Padding is skipped; a slot with a non-finite norm adds nothing.
 */
final class MicrobatchStrategy implements ClippingStrategy {
    private final ModelRuntime rt;

    MicrobatchStrategy(ModelRuntime rt) {
        this.rt = rt;
    }

    @Override
    public BatchStats run(DeviceBatch b, ClipPolicy policy, boolean accumulate, double[] norms) {
        rt.checkBatch(b);
        ParameterStore store = rt.store;
        int k = b.multiplicity();
        long samples = 0;
        long correct = 0;
        long clipped = 0;
        long nonFinite = 0;
        double lossSum = 0;
        double normSum = 0;
        try {
            for (int s = 0; s < b.slots(); s++) {
                if (b.mask()[s] == 0f) {
                    norms[s] = 0;
                    continue;
                }
                final int slot = s;
                store.freshLeaves(true);
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    NDArray[] out = ModelRuntime.withGrad(() -> {
                        NDArray logits = rt.lowered.forward(rt.inputs(b, slot, 1), Tape.NONE);
                        NDArray loss = ModelRuntime.perSlotLoss(logits, rt.oneHot(b, slot, 1), 1, k)
                                .sum();
                        rt.backward(loss);
                        return new NDArray[] {logits, loss};
                    });
                    NDArray[] grads = new NDArray[store.count()];
                    SlotNorms sn = new SlotNorms(policy, 1);
                    for (int i = 0; i < store.count(); i++) {
                        if (!store.trainable(i)) continue;
                        grads[i] = store.gradient(store.value(i));
                        sn.add(i, grads[i].square().sum().reshape(1));
                    }
                    double[] norm = new double[1];
                    ClipDecision d = ClipDecision.decide(policy, sn, new boolean[] {true}, norm, rt.stepExamples);
                    norms[s] = norm[0];
                    // Selection on the host: a dropped slot's gradients are never touched.
                    if (accumulate && d.keep[0]) {
                        for (int i = 0; i < store.count(); i++) {
                            if (grads[i] != null)
                                store.accumulator(i).addi(grads[i].mul(d.factors[policy.groupOf(i)][0]));
                        }
                    }
                    samples++;
                    if (d.keep[0]) {
                        lossSum += Precision.toDoubles(out[1])[0];
                        if (ModelRuntime.predictions(out[0], 1, k)[0] == b.labels()[s]) correct++;
                    }
                    clipped += d.clipped;
                    nonFinite += d.nonFinite;
                    normSum += d.normSum;
                }
            }
        } finally {
            // Also after an exception: a recorded (book-keeping) pass relies on no parameter requiring a gradient.
            store.freshLeaves(false);
        }
        return new BatchStats(samples, lossSum, correct, clipped, normSum, nonFinite);
    }
}
