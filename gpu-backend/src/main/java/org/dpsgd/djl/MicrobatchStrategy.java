package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;

/**
 * The reference (NanoBatch): one forward and backward per real slot (its K copies together), the
 * parameter gradients read, their norm taken, scaled by min(1, C/‖g‖) and added. Padding is skipped.
 */
final class MicrobatchStrategy implements ClippingStrategy {
    private final ModelRuntime rt;

    MicrobatchStrategy(ModelRuntime rt) {
        this.rt = rt;
    }

    @Override public BatchStats run(DeviceBatch b, double clipNorm, boolean accumulate, double[] norms) {
        rt.checkBatch(b);
        ParameterStore store = rt.store;
        int k = b.multiplicity();
        long samples = 0;
        long correct = 0;
        long clipped = 0;
        double lossSum = 0;
        double normSum = 0;
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
                    NDArray loss = ModelRuntime.perSlotLoss(logits, rt.oneHot(b, slot, 1), 1, k).sum();
                    rt.backward(loss);
                    return new NDArray[] {logits, loss};
                });
                NDArray[] grads = new NDArray[store.count()];
                NDArray sq = null;
                for (int i = 0; i < store.count(); i++) {
                    if (!store.trainable(i)) continue;
                    grads[i] = store.value(i).getGradient();
                    NDArray g2 = grads[i].square().sum();
                    sq = sq == null ? g2 : sq.add(g2);
                }
                double norm = sq == null ? 0 : Math.sqrt(Precision.toDoubles(sq)[0]);
                norms[s] = norm;
                double c = ClippingStrategy.factor(s, norm, clipNorm);
                if (accumulate) {
                    for (int i = 0; i < store.count(); i++) if (grads[i] != null) store.accumulator(i).addi(grads[i].mul(c));
                }
                samples++;
                lossSum += Precision.toDoubles(out[1])[0];
                if (ModelRuntime.predictions(out[0], 1, k)[0] == b.labels()[s]) correct++;
                if (norm > clipNorm) clipped++;
                normSum += norm;
            }
        }
        store.freshLeaves(false);
        return new BatchStats(samples, lossSum, correct, clipped, normSum);
    }
}
