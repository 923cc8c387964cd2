package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Layer;

/**
 * GroupNorm. Where nothing is recorded (non-private steps, evaluation) on the CPU in float32/float64:
 * PyTorch's own fused kernel, one op each way ({@link NativeGroupNorm}). Otherwise: one native
 * layer-norm over [N, G, C/G·H·W] (3x faster than composing mean and variance by hand), then the
 * per-channel affine. Statistics are per sample: no batch mixing. Book-keeping
 * covers the affine only (the normalisation has no parameters). Its per-sample gradients (Σ g·x̂
 * and Σ g per channel) are formed by the backward pass itself: each trainable γ and β enters the
 * affine as a per-row leaf [N, C, 1, 1] ({@link Tape#perRowLeaf}), whose gradient is exactly the
 * per-row gradient, in the compute type (one fused native op on the CPU in fp32/fp64, {@link
 * #fusedRowAffine}). So the tap keeps nothing full-size, and the output
 * gradient is freed as soon as autograd has used it instead of waiting on a zero leaf for the
 * clipped sum (issue 12 §3); the norm and the clipped sum come from the same formed values
 * cast to float64 ({@link ClipBound}: a formed gradient needs no slack). One path; {@link
 * RuleOptions} do not apply.
 */
final class GroupNormRule implements LayerRule<Layer.GroupNorm> {
    @Override
    public Class<Layer.GroupNorm> layerType() {
        return Layer.GroupNorm.class;
    }

    @Override
    public Op lower(Layer.GroupNorm layer, Lowering lowering) {
        return new Forward(layer, lowering.store(), lowering.constants());
    }

    /** The lowered layer. */
    static final class Forward implements Op {
        final Layer.GroupNorm layer;
        final ParameterStore store;
        final Constants constants;
        final int weight;
        final int bias;

        Forward(Layer.GroupNorm layer, ParameterStore store, Constants constants) {
            this.layer = layer;
            this.store = store;
            this.constants = constants;
            this.weight = store.indexOf(layer.name() + ".weight");
            this.bias = store.indexOf(layer.name() + ".bias");
        }

        @Override
        public NDArray forward(NDArray x, Tape tape) {
            if (!tape.recording()) {
                // Nothing recorded (non-private steps, evaluation): PyTorch's one fused kernel each way.
                NDArray out = constants
                        .groupNorm()
                        .apply(x, layer.groups(), layer.eps(), store.value(weight), store.value(bias));
                if (out != null) return out;
            }
            if (tape.recording() && (store.trainable(weight) || store.trainable(bias)) && fusable(x)) {
                return nativeRows(x, tape);
            }
            // x̂ in a scope of its own, so that no view of x or of the layer-norm's output outlives the call; and
            // x̂'s own handle closed once the affine has used it: autograd keeps x̂ and x for their backward
            // and frees them once it has run, instead of the step's scope holding both to its end (Op.chain).
            NDArray normalized = TapScope.one(() -> normalize(x, layer.groups(), layer.eps(), constants));
            NDArray y = affine(normalized, tape);
            normalized.close();
            return y;
        }

        /**
         * Book-keeping on the CPU (float32/float64): PyTorch's native group_norm over x as [1, N·C, H·W] with
         * N·G groups, weight and bias the per-row leaves as [N·C] ({@link Tape#perRowLeaf}; a frozen one
         * broadcast and copied). A group never crosses a row (C/G consecutive channels of one row), so the
         * statistics are each sample's own as before, and the kernel's weight and bias gradients for channel
         * (n, c) are Σ_hw g·x̂ and Σ_hw g of row n: the per-sample gradients, formed in the compute type. The
         * kernel saves only x and its per-group statistics for the backward pass, not x̂, as in the non-private
         * step (issue 12 §3: one full-size tensor less per GroupNorm held during the backward pass).
         */
        private NDArray nativeRows(NDArray x, Tape tape) {
            Shape s = x.getShape();
            long n = s.get(0);
            long c = s.get(1);
            boolean w = store.trainable(weight);
            boolean b = store.trainable(bias);
            NDArray gamma = store.value(weight).reshape(1, c, 1, 1);
            NDArray beta = store.value(bias).reshape(1, c, 1, 1);
            if (w) gamma = tape.perRowLeaf(gamma, n);
            if (b) beta = tape.perRowLeaf(beta, n);
            tape.add(new Record(this, tape.slots, tape.copies, w ? gamma : null, b ? beta : null));
            NDArray g = gamma;
            NDArray bt = beta;
            return TapScope.one(() -> {
                Shape perRow = new Shape(n, c, 1, 1);
                NDArray wv = (g.getShape().get(0) == 1 ? g.broadcast(perRow) : g).reshape(n * c);
                NDArray bv = (bt.getShape().get(0) == 1 ? bt.broadcast(perRow) : bt).reshape(n * c);
                NDArray y = constants
                        .groupNorm()
                        .apply(x.reshape(1, n * c, -1), Math.toIntExact(n * layer.groups()), layer.eps(), wv, bv);
                if (y == null) throw new IllegalStateException("native group_norm refused a float32/64 CPU tensor");
                return y.reshape(s);
            });
        }

        private NDArray affine(NDArray normalized, Tape tape) {
            boolean w = store.trainable(weight);
            boolean b = store.trainable(bias);
            if (!tape.recording() || !(w || b)) {
                NDArray fused = fusedAffine(normalized, store.value(weight), store.value(bias), constants);
                if (fused != null) return fused;
            }
            NDArray gamma = store.value(weight).reshape(1, layer.channels(), 1, 1);
            NDArray beta = store.value(bias).reshape(1, layer.channels(), 1, 1);
            if (!tape.recording() || !(w || b)) return normalized.mul(gamma).add(beta);
            // Book-keeping: each trainable γ, β as one leaf row per batch row, so that the backward pass
            // forms the per-row gradients itself and the output gradient need not outlive it.
            long n = normalized.getShape().get(0);
            if (w) gamma = tape.perRowLeaf(gamma, n);
            if (b) beta = tape.perRowLeaf(beta, n);
            tape.add(new Record(this, tape.slots, tape.copies, w ? gamma : null, b ? beta : null));
            // In a scope of its own: the fused op's reshaped views of x̂ and of its output die with the call.
            NDArray[] fused = new NDArray[1];
            NDArray g = gamma;
            NDArray bt = beta;
            TapScope.run(
                    () -> fused[0] = fusedRowAffine(normalized, g, bt, constants),
                    () -> fused[0] == null ? List.of() : List.of(fused[0]));
            // Composed (16-bit, off the CPU): β added in place, since mul's product is saved by no backward
            // (mul saves x̂ and γ), so one [N, C, H, W] tensor is made instead of two. Same values, gradients.
            return fused[0] != null ? fused[0] : normalized.mul(gamma).addi(beta);
        }
    }

    /**
     * x̂ = (x − mean) / sqrt(var + eps) per sample and group, same shape as {@code x} [N, C, ...]: one
     * native layer-norm over [N, G, C/G·H·W] with a unit weight and zero bias (fused into the kernel; as
     * constants they need no gradient, so its backward computes the input gradient only).
     */
    static NDArray normalize(NDArray x, int groups, double eps, Constants constants) {
        Shape s = x.getShape();
        long n = s.get(0);
        long perGroup = s.size() / n / groups;
        return ai.djl.nn.norm.LayerNorm.layerNorm(
                        x.reshape(n, groups, perGroup),
                        new Shape(perGroup),
                        constants.ones(perGroup),
                        constants.zeros(perGroup),
                        (float) eps)
                .singletonOrThrow()
                .reshape(s);
    }

    /**
     * x̂·γ + β per channel as ONE native op and one backward op, where the composed {@code mul} and
     * {@code add} take two of each plus two reductions: PyTorch's batch-norm in inference mode with
     * running mean 0, running variance 1 and eps 0, whose scale 1/sqrt(1 + 0) is exactly 1, so it
     * computes x̂·γ + β (the weight gradient Σ g·x̂, the bias gradient Σ g). Null (keep the composed
     * form) for 16-bit types and off the CPU: CUDA's kernel takes 1/sqrt through an approximate
     * rsqrt, whose value at 1 has not been checked on a GPU. Used where nothing is recorded for
     * book-keeping (non-private steps, evaluation).
     */
    static NDArray fusedAffine(NDArray normalized, NDArray gamma, NDArray beta, Constants constants) {
        if (!fusable(normalized)) return null;
        return batchNormAffine(normalized, gamma, beta, constants);
    }

    /**
     * The book-keeping form of {@link #fusedAffine}: x̂·γ_n + β_n with one γ and β row per batch row
     * n ({@link Tape#perRowLeaf}, [N, C, 1, 1]; a frozen parameter may stay [1, C, 1, 1]), as the same
     * inference-mode batch-norm over [1, N·C, H·W]: N·C channels, each (n, c) its own channel, so the
     * kernel's per-channel weight and bias gradients are Σ_hw g·x̂ and Σ_hw g of row n alone — the
     * per-sample gradients, formed in the compute type as the composed mul/add's backward forms them,
     * with one fused op forward and one backward instead of two of each plus two reductions. Null
     * where {@link #fusedAffine} is (16-bit types, off the CPU): the caller composes instead.
     */
    static NDArray fusedRowAffine(NDArray normalized, NDArray gamma, NDArray beta, Constants constants) {
        if (!fusable(normalized)) return null;
        Shape s = normalized.getShape();
        long rows = s.get(0) * s.get(1);
        Shape perRow = new Shape(s.get(0), s.get(1), 1, 1);
        // A frozen parameter is [1, C, 1, 1]: broadcast and copy it to one value per row (no gradient).
        NDArray w = (gamma.getShape().get(0) == 1 ? gamma.broadcast(perRow) : gamma).reshape(rows);
        NDArray b = (beta.getShape().get(0) == 1 ? beta.broadcast(perRow) : beta).reshape(rows);
        return batchNormAffine(normalized.reshape(1, rows, -1), w, b, constants).reshape(s);
    }

    private static boolean fusable(NDArray normalized) {
        ai.djl.ndarray.types.DataType t = normalized.getDataType();
        if (t != ai.djl.ndarray.types.DataType.FLOAT32 && t != ai.djl.ndarray.types.DataType.FLOAT64) return false;
        return normalized.getDevice().equals(ai.djl.Device.cpu());
    }

    /** Inference-mode batch-norm of x [B, C', ...] with running mean 0, variance 1, eps 0: x·w + b per channel. */
    private static NDArray batchNormAffine(NDArray x, NDArray w, NDArray b, Constants constants) {
        long c = x.getShape().get(1);
        return ai.djl.pytorch.jni.JniUtils.batchNorm(
                (ai.djl.pytorch.engine.PtNDArray) x,
                (ai.djl.pytorch.engine.PtNDArray) constants.zeros(c),
                (ai.djl.pytorch.engine.PtNDArray) constants.ones(c),
                (ai.djl.pytorch.engine.PtNDArray) w,
                (ai.djl.pytorch.engine.PtNDArray) b,
                false,
                0.0,
                0.0);
    }

    /** What one GroupNorm records for book-keeping. */

    /** What one GroupNorm records for book-keeping: its per-row γ and β leaves (null where frozen). */
    static final class Record implements Tap {
        private final Forward op;
        private final int slots;
        private final int copies;
        private NDArray gammaRows; // [N, C, 1, 1] leaf, or null; after harvest, its gradient
        private NDArray betaRows; // [N, C, 1, 1] leaf, or null; after harvest, its gradient
        private NDArray weightGrad; // [S, C]
        private NDArray biasGrad; // [S, C]

        Record(Forward op, int slots, int copies, NDArray gammaRows, NDArray betaRows) {
            this.op = op;
            this.slots = slots;
            this.copies = copies;
            this.gammaRows = gammaRows;
            this.betaRows = betaRows;
        }

        @Override
        public int[] parameters() {
            return op.bias >= 0 ? new int[] {op.weight, op.bias} : new int[] {op.weight};
        }

        @Override
        public List<NDArray> harvest() {
            List<NDArray> out = new ArrayList<>(2);
            if (gammaRows != null) out.add(gammaRows = Tape.gradientOf(gammaRows));
            if (betaRows != null) out.add(betaRows = Tape.gradientOf(betaRows));
            return out;
        }

        @Override
        public void measure(SlotNorms norms) {
            if (gammaRows != null) {
                weightGrad = perSlot(gammaRows);
                norms.add(op.weight, weightGrad.square().sum(new int[] {1}));
                gammaRows.close();
                gammaRows = null;
            }
            if (betaRows != null) {
                biasGrad = perSlot(betaRows);
                norms.add(op.bias, biasGrad.square().sum(new int[] {1}));
                betaRows.close();
                betaRows = null;
            }
        }

        /** A per-row leaf's gradient (float64, loss scale divided out) summed over each slot's K copies: [S, C]. */
        private NDArray perSlot(NDArray rowGradient) {
            NDArray g = op.store.lossScale().unscaled(rowGradient);
            // K = 1: the row is the slot. A sum over one copy would be a copy and one more op per parameter,
            // which on a loaded machine waits for a thread like any other (issue 12 §1; same values).
            if (copies == 1) return g.reshape(slots, op.layer.channels());
            return g.reshape(slots, copies, op.layer.channels()).sum(new int[] {1});
        }

        @Override
        public List<NDArray> kept() {
            // [S, C] each; the leaves' gradients they come from are [N, C]: nothing full-size is held by this tap.
            List<NDArray> out = new ArrayList<>(2);
            if (weightGrad != null) out.add(weightGrad);
            if (biasGrad != null) out.add(biasGrad);
            return out;
        }

        @Override
        public void accumulateClipped(ClipFactors f) {
            // Adopted as the accumulator when it is the first sum since a drain (0 + s = s): no zeros, no addi.
            if (weightGrad != null)
                op.store.addToAccumulator(op.weight, ClippedSums.of(f.of(op.weight), f.select(weightGrad)));
            if (biasGrad != null) op.store.addToAccumulator(op.bias, ClippedSums.of(f.of(op.bias), f.select(biasGrad)));
        }
    }
}
