package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;

/**
 * Book-keeping with mixed ghost norms (Bu et al.): one forward and one backward over the whole
 * micro-batch, parameters excluded from autograd; each parametrised layer's output gradient is
 * caught by a leaf (a cut of the graph on a chain, else a zero leaf: {@link Tape#withLeaf}).
 * Per-sample norms come from each layer's input and output gradient, per
 * clip group, and the clipped sum from the same tensors scaled by the group's clip factors,
 * without a second backward pass (per-layer clipping costs nothing extra: each layer's norm is
 * there anyway).
 */
final class BookkeepingStrategy implements ClippingStrategy {
    private final ModelRuntime rt;

    BookkeepingStrategy(ModelRuntime rt) {
        this.rt = rt;
    }

    @Override
    public BatchStats run(DeviceBatch b, ClipPolicy policy, boolean accumulate, double[] norms) {
        rt.checkBatch(b);
        rt.store.freshLeaves(false);
        int slots = b.slots();
        int k = b.multiplicity();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            // Cuts only on a chain (GraphCuts): same tensors to the same leaves, fewer ops.
            Tape tape = new Tape(rt.manager, slots, k, rt.graphCuts && rt.lowered.chain());
            double[][] loss = new double[1][];
            long[][] pred = new long[1][];
            long[][] cost = new long[1][]; // per tap, filled by harvest (the taps are recorded in the forward)
            // The forward and backward pass in a scope of their own: once each tap has taken its leaf gradients
            // and detached inputs (Tap.harvest), every other array of the pass is closed, and with them the
            // autograd graph, whose nodes hold every leaf and so its gradient. The activations no tap reads are
            // freed before the norms, and each tap frees its output gradient once its last use is done instead
            // of at the end of the step (issue 12 §3). Lifetimes only: no value changes.
            TapScope.run(
                    () -> {
                        NDArray mask = rt.mask(b);
                        NDArray[] out = ModelRuntime.withGrad(() -> {
                            NDArray logits = rt.lowered.forward(rt.inputs(b, 0, slots), tape);
                            NDArray l = ModelRuntime.perSlotLoss(logits, rt.oneHot(b, 0, slots), slots, k);
                            // Masked slots' losses are multiplied by 0, so their output gradients are exactly 0.
                            if (!tape.taps().isEmpty()) {
                                rt.backward(l.mul(mask).sum());
                                tape.backwardThroughCuts();
                            }
                            return new NDArray[] {logits, l};
                        });
                        loss[0] = Precision.toDoubles(out[1]);
                        pred[0] = ModelRuntime.predictions(out[0], slots, k);
                    },
                    () -> harvest(tape, cost));
            return ModelRuntime.withoutGrad(() -> {
                SlotNorms sn = new SlotNorms(policy, slots);
                // Each tap's casts, unfold and temporaries are freed as soon as its norms are taken; on the CPU
                // with two intra-op threads the taps run on two threads, with the same bits (TapPhases).
                rt.taps.measure(tape.taps(), cost[0], sn);
                boolean[] real = new boolean[slots];
                for (int i = 0; i < slots; i++) real[i] = b.mask()[i] != 0f;
                ClipDecision d = ClipDecision.decide(policy, sn, real, norms, rt.stepExamples);
                long samples = 0;
                long correct = 0;
                double lossSum = 0;
                for (int i = 0; i < slots; i++) {
                    if (!real[i]) continue;
                    samples++;
                    if (!d.keep[i]) continue; // a dropped example's loss says nothing useful and may be NaN
                    lossSum += loss[0][i];
                    if (pred[0][i] == b.labels()[i]) correct++;
                }
                if (accumulate) {
                    ClipFactors f = new ClipFactors(rt.manager, policy, d);
                    rt.taps.accumulate(tape.taps(), cost[0], f);
                }
                return new BatchStats(samples, lossSum, correct, d.clipped, d.normSum, d.nonFinite);
            });
        }
    }

    /** Every tap's harvest; {@code cost[t]} gets the elements tap t took (what its phases read, TapPhases' split). */
    private static List<NDArray> harvest(Tape tape, long[][] costs) {
        List<NDArray> keep = new ArrayList<>();
        List<Tap> taps = tape.taps();
        long[] cost = costs[0] = new long[taps.size()];
        for (int i = 0; i < taps.size(); i++) {
            for (NDArray a : taps.get(i).harvest()) {
                keep.add(a);
                cost[i] += a.size();
            }
        }
        return keep;
    }
}
