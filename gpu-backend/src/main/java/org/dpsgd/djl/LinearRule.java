package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Layer;

/**
 * Fully connected layer, weight [out, in] (PyTorch layout); flattens a [N, D, 1, 1] input.
 * Book-keeping: per slot, a [K, d] and g [K, p] (K augmented copies); the weight gradient is gᵀa.
 * Paths ({@link RuleOptions.Norm}):
 *
 * <ul>
 *   <li>ghost (the default, {@code MIXED} and {@code GHOST}): squared norm ⟨aaᵀ, ggᵀ⟩, which for
 *       K = 1 is ‖a‖²‖g‖² (a single outer product, whose rounding is relative: no slack), for K > 1
 *       with the error bounds of {@link ClipBound}; clipped sum (c∘g)ᵀa as one matmul;
 *   <li>explicit ({@code EXPLICIT}): the per-sample gradient [S, p, d] formed by a batched matmul,
 *       its norm and the clipped sum Σ c_i G_i taken from it (no slack).
 * </ul>
 *
 * The bias gradient is Σ_copies g, formed.
 */
final class LinearRule implements LayerRule<Layer.Linear> {
    @Override
    public Class<Layer.Linear> layerType() {
        return Layer.Linear.class;
    }

    @Override
    public Op lower(Layer.Linear layer, Lowering lowering) {
        return new Forward(layer, lowering.store(), lowering.options().norm() != RuleOptions.Norm.EXPLICIT);
    }

    /** The lowered layer. */
    static final class Forward implements Op {
        final Layer.Linear layer;
        final ParameterStore store;
        final int weight;
        final int bias;
        final boolean ghost;

        Forward(Layer.Linear layer, ParameterStore store, boolean ghost) {
            this.layer = layer;
            this.store = store;
            this.ghost = ghost;
            this.weight = store.indexOf(layer.name() + ".weight");
            this.bias = layer.bias() ? store.indexOf(layer.name() + ".bias") : -1;
        }

        boolean weightTrainable() {
            return store.trainable(weight);
        }

        boolean biasTrainable() {
            return bias >= 0 && store.trainable(bias);
        }

        @Override
        public NDArray forward(NDArray x, Tape tape) {
            NDArray flat =
                    x.getShape().dimension() == 2 ? x : x.reshape(x.getShape().get(0), -1);
            NDArray y = bias >= 0
                    ? ai.djl.nn.core.Linear.linear(flat, store.value(weight), store.value(bias))
                            .singletonOrThrow()
                    : ai.djl.nn.core.Linear.linear(flat, store.value(weight)).singletonOrThrow();
            if (!tape.recording() || !(weightTrainable() || biasTrainable())) return y;
            NDArray[] yz = tape.withLeaf(y);
            tape.add(new Record(this, tape, flat, Tape.lent(x), yz[1]));
            return yz[0];
        }
    }

    /** What one linear layer records for book-keeping. */
    static final class Record implements Tap {
        private final Forward op;
        private final Tape tape; // where a cut leaf's gradient waits for the harvest (Tape#takeGradient)
        private final int slots;
        private final int copies;
        private NDArray input; // the forward's input, detached (Tape.alias)
        private final NDArray lent; // Tape.lent
        // The output's leaf (Tape.withLeaf: the output itself, a cut, or a zero leaf); null after harvest.
        private NDArray zero;
        private NDArray grad; // the leaf's gradient [N, p], compute type, loss scale in: from harvest
        private NDArray a; // [N, d] float64
        private NDArray outGrad; // [N, p] float64
        private NDArray perSample; // [S, p, d] float64, explicit path only
        private NDArray biasPerSample; // [S, p] float64
        private NDArray outGradSquared; // [S] ‖g‖² per slot, K = 1 ghost path: measure only

        Record(Forward op, Tape tape, NDArray input, NDArray lent, NDArray zero) {
            this.op = op;
            this.tape = tape;
            this.slots = tape.slots;
            this.copies = tape.copies;
            this.input = Tape.alias(input);
            this.lent = lent;
            this.zero = zero;
        }

        @Override
        public int[] parameters() {
            return op.bias >= 0 ? new int[] {op.weight, op.bias} : new int[] {op.weight};
        }

        @Override
        public List<NDArray> harvest() {
            List<NDArray> out = new ArrayList<>();
            grad = tape.takeGradient(zero);
            out.add(grad);
            Tape.keepInput(out, input, lent);
            zero = null;
            return out;
        }

        @Override
        public void measure(SlotNorms norms) {
            outGrad = op.store.lossScale().unscaled(grad);
            long p = outGrad.getShape().get(1);
            if (op.weightTrainable()) {
                a = Precision.f64(input);
                long d = a.getShape().get(1);
                ClipBound.checkSize(a.size(), "the input of " + op.layer.name());
                if (!op.ghost) {
                    ClipBound.checkSize((long) slots * p * d, "the per-sample gradients of " + op.layer.name());
                    perSample =
                            outGrad.reshape(slots, copies, p).transpose(0, 2, 1).matMul(a.reshape(slots, copies, d));
                    norms.add(op.weight, perSample.square().sum(new int[] {1, 2}));
                } else if (copies == 1) {
                    // One outer product per slot: its norm and its share of the matmul are off by relative errors only.
                    outGradSquared = outGrad.square().sum(new int[] {1});
                    norms.add(op.weight, a.square().sum(new int[] {1}).mul(outGradSquared));
                } else {
                    NDArray a3 = a.reshape(slots, copies, d);
                    NDArray g3 = outGrad.reshape(slots, copies, p);
                    NDArray sq = a3.matMul(a3.transpose(0, 2, 1))
                            .mul(g3.matMul(g3.transpose(0, 2, 1)))
                            .sum(new int[] {1, 2});
                    NDArray m = a3.square()
                            .sum(new int[] {2})
                            .sqrt()
                            .mul(g3.square().sum(new int[] {2}).sqrt())
                            .sum(new int[] {1});
                    norms.addUnformed(
                            op.weight,
                            sq,
                            m,
                            ClipBound.gamma(d + p + (long) copies * copies),
                            ClipBound.gamma(a.getShape().get(0)));
                }
            }
            if (op.biasTrainable()) {
                biasPerSample = copies == 1
                        ? outGrad
                        : outGrad.reshape(slots, copies, p).sum(new int[] {1});
                // K = 1: the bias's per-sample gradient is the output gradient, whose squared norms the weight's
                // ghost norm just took (the same array, so the same values; SlotNorms adds out of place).
                norms.add(
                        op.bias,
                        copies == 1 && outGradSquared != null
                                ? outGradSquared
                                : biasPerSample.square().sum(new int[] {1}));
            }
            outGradSquared = null;
            // The clipped sum reads outGrad and a only: close the harvested handles unless they are those
            // very arrays (a float64 model's f64 and unscaled return their argument).
            if (grad != outGrad) grad.close();
            if (input != a) input.close();
            grad = null;
            input = null;
        }

        @Override
        public List<NDArray> kept() {
            // [N, d] and [N, p] (a network's head): small next to a convolution's tensors, so kept as they are.
            List<NDArray> out = new ArrayList<>(4);
            for (NDArray x : new NDArray[] {a, outGrad, perSample, biasPerSample}) if (x != null) out.add(x);
            return out;
        }

        @Override
        public void accumulateClipped(ClipFactors f) {
            long p = outGrad.getShape().get(1);
            if (op.weightTrainable()) {
                NDArray c = f.of(op.weight);
                NDArray sum;
                if (perSample != null) {
                    sum = ClippedSums.of(c, f.select(perSample));
                } else {
                    NDArray g = f.select(outGrad);
                    // K = 1: g is [S, p] already, rows are slots (no reshape ops).
                    NDArray scaled = copies == 1
                            ? g.mul(c.reshape(slots, 1))
                            : g.reshape(slots, copies, p)
                                    .mul(c.reshape(slots, 1, 1))
                                    .reshape(-1, p);
                    sum = scaled.transpose().matMul(f.select(a));
                }
                op.store.addToAccumulator(op.weight, sum);
            }
            if (op.biasTrainable()) {
                op.store.addToAccumulator(op.bias, ClippedSums.of(f.of(op.bias), f.select(biasPerSample)));
            }
        }
    }
}
