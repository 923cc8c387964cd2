package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;

/**
 * Book-keeping with mixed ghost norms (Bu et al.): one forward and one backward over the whole
 * micro-batch, parameters excluded from autograd; each parametrised layer's output gradient is
 * caught by a zero leaf. Per-sample norms come from each layer's input and output gradient, and the
 * clipped sum from the same tensors scaled by the clip factors, without a second backward pass.
 */
final class BookkeepingStrategy implements ClippingStrategy {
    private final ModelRuntime rt;

    BookkeepingStrategy(ModelRuntime rt) {
        this.rt = rt;
    }

    @Override public BatchStats run(DeviceBatch b, double clipNorm, boolean accumulate, double[] norms) {
        rt.checkBatch(b);
        rt.store.freshLeaves(false);
        int slots = b.slots();
        int k = b.multiplicity();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Tape tape = new Tape(rt.manager, slots, k);
            NDArray mask = rt.mask(b);
            NDArray[] out = ModelRuntime.withGrad(() -> {
                NDArray logits = rt.lowered.forward(rt.inputs(b, 0, slots), tape);
                NDArray loss = ModelRuntime.perSlotLoss(logits, rt.oneHot(b, 0, slots), slots, k);
                // Masked slots' losses are multiplied by 0, so their output gradients are exactly 0.
                if (!tape.taps().isEmpty()) rt.backward(loss.mul(mask).sum());
                return new NDArray[] {logits, loss};
            });
            return ModelRuntime.withoutGrad(() -> {
                NDArray sq = null;
                for (Tap t : tape.taps()) {
                    NDArray s = t.squaredNorms();
                    if (s != null) sq = sq == null ? s : sq.add(s);
                }
                double[] sqHost = sq == null ? new double[slots] : Precision.toDoubles(sq);
                double[] factors = new double[slots];
                long samples = 0;
                long correct = 0;
                long clipped = 0;
                double lossSum = 0;
                double normSum = 0;
                double[] loss = Precision.toDoubles(out[1]);
                long[] pred = ModelRuntime.predictions(out[0], slots, k);
                for (int i = 0; i < slots; i++) {
                    if (b.mask()[i] == 0f) {
                        norms[i] = 0;
                        continue;
                    }
                    double norm = Math.sqrt(Math.max(0, sqHost[i]));
                    norms[i] = norm;
                    factors[i] = ClippingStrategy.factor(i, norm, clipNorm);
                    samples++;
                    lossSum += loss[i];
                    if (pred[i] == b.labels()[i]) correct++;
                    if (norm > clipNorm) clipped++;
                    normSum += norm;
                }
                if (accumulate) {
                    NDArray c = rt.precision.create(rt.manager, factors, new Shape(slots));
                    for (Tap t : tape.taps()) t.accumulateClipped(c);
                }
                return new BatchStats(samples, lossSum, correct, clipped, normSum);
            });
        }
    }
}
