package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Layer;

/**
 * Conv2d (PyTorch weight layout), with optional per-output-channel weight standardisation.
 * Book-keeping: with a the unfolded input [T', d] of one slot (T' = copies × positions, d = in·k·k)
 * and g its output gradient [T', p], the weight gradient is gᵀa. Paths:
 *
 * <ul>
 *   <li>norm ({@link RuleOptions.Norm}): ghost ⟨aaᵀ, ggᵀ⟩, the gradient never formed, with error
 *       bounds in M = Σ_t ‖a_t‖‖g_t‖ ({@link ClipBound}) and the clipped sum (c∘g)ᵀa as one matmul
 *       over all positions; or explicit, the per-sample gradient [S, p, d] formed by a batched
 *       matmul (float32 in a float32 or 16-bit model, float64 in a float64 one), norm and sum
 *       Σ c_i G_i from it in float64 (no slack). {@code MIXED} takes the ghost norm when its Gram
 *       matrices take no more bytes than the formed gradient ({@link #useGhost}: Bu et al.'s
 *       2T'² ≤ p·d in float64, 4T'² ≤ p·d when formed in float32), except where a small float32
 *       formation is faster ({@link #ghostNorm}); weight-standardised convs are always explicit
 *       (their Jacobian, applied to the formed gradient, is not of the form gᵀa);
 *   <li>unfold ({@link RuleOptions.Unfold}): reshape (1x1, stride 1, no padding), one-hot
 *       convolution, strided slices, or one strided view copied once; see {@link Forward#unfold}. Where
 *       a float32 or 16-bit model forms the gradient explicitly, the view, its copy and the batched
 *       matmul are one native call ({@link NativeConvUnfold#perSampleGradient}) for every k &gt; 1
 *       kernel under {@code AUTO} ({@link Forward#fusedFormation}). Where that formed gradient is small
 *       ({@link #KEEP_WIDE_BYTES}; small-cnn's convs), the formation, both float64 casts and both squared
 *       norms are one native call instead ({@link #oneCall}, {@link NativeConvUnfold#formedGradients}), by
 *       the unfold for few input channels and as the weight gradient of one convolution grouped by slot for
 *       more (no unfold at all).
 * </ul>
 *
 * Biases: Σ_positions g, formed (float32 where the weight's gradient is). Ghost paths are float64
 * after the unfold; formed gradients are cast to float64 for their norm and sum.
 */
final class Conv2dRule implements LayerRule<Layer.Conv2d> {
    /** Epsilon of weight standardisation (inside the square root), as in timm's StdConv2d. */
    static final double WS_EPS = 1e-5;

    /**
     * Largest formed float32 per-sample gradient (bytes of its float64 copy) whose float64 copy, made for its norm,
     * is kept for the clipped sum instead of casting it again there: small layers (small-cnn's convs) trade a
     * few MB held for a pass; large ones (resnet18-gn's explicit layers) keep only the float32 gradient.
     */
    static final long KEEP_WIDE_BYTES = 16L << 20;

    /**
     * Largest per-sample gradient (bytes of its float64 copy, S·p·d·8) that {@code MIXED} forms in float32 for speed
     * where the ghost norm would take less memory ({@link #ghostNorm}): the formed gradient's float64 copy, made for
     * its norm, is held from the norms to the clipped sum (session 8: not cast a second time there, as {@link
     * #KEEP_WIDE_BYTES} does for small layers), so this caps what one layer adds to the step's peak: resnet18-gn's
     * layer1 at 3x32x32, batch 64, is 18.9 MB (4 layers, 76 MB); resnet50-gn at 224, batch 16 (issue 12 §3's memory
     * goal), has none below 32 MB that the memory rule leaves ghost, so its choices stay Bu et al.'s (GhostChoiceTest).
     */
    static final long FORMED_FOR_SPEED_BYTES = 24L << 20;

    /**
     * Cost of one element of a formed float32 per-sample gradient, in float64 multiply-adds, for {@link
     * #formedIsFaster}: the bmm writes it, the norm casts and reads it, the clipped sum casts and reads it again,
     * memory-bound passes. Fitted on resnet18-gn, 3x32x32, batch 64 (docs/benchmarks.md "Session 7: resnet18-gn
     * auto"): layer1 (T' = 64) forms ~3× faster than its ghost path, layer2 (T' = 16) ~8× slower; 32 puts both on
     * the measured side with room (16 and 64 would too).
     */
    static final long FORMED_PASSES = 32;

    /**
     * Largest float64 unfold [S, T', d] (bytes) a ghost layer keeps from its norm to its clipped sum instead of
     * unfolding again ({@link Record}). Small on purpose: resnet18-gn at 3x32x32, batch 64, keeps all 15 ghost
     * layers' (1.2–9.4 MB each, ~58 MB together); resnet50-gn at 224, batch 16, keeps only its small ghost layers
     * (≤ 12.8 MB each, ~80 MB together against a ~2.8 GB peak).
     */
    static final long KEEP_UNFOLD_BYTES = 16L << 20;

    /**
     * Largest float64 output gradient [S, T', p] (bytes) a ghost layer that keeps its unfold ({@link
     * #KEEP_UNFOLD_BYTES}) also keeps from its norm to its clipped sum instead of casting and transposing it again:
     * resnet18-gn at 3x32x32, batch 64, keeps all 15 ghost layers' (0.26–1 MB each, ~8 MB together); resnet50-gn at
     * 224, batch 16, only those of at most 4 MB.
     */
    static final long KEEP_OUT_GRAD_BYTES = 4L << 20;

    /** Whether {@link #KEEP_OUT_GRAD_BYTES} applies; false only in same-process A/B measurements. */
    static volatile boolean keepOutGrad = true;

    /** {@link #KEEP_UNFOLD_BYTES}, lowered by tests to 0 so the clipped sum's fresh re-unfold is covered too. */
    static volatile long keepUnfoldBytes = KEEP_UNFOLD_BYTES;

    /**
     * Whether the ghost path on the native rows unfolds only the live kernel taps ({@link NativeConvUnfold#liveTaps});
     * false only in same-process A/B measurements (docs/benchmarks.md "Session 8: resnet18-gn auto").
     */
    static volatile boolean liveTaps = true;

    /**
     * Whether a layer formed for speed keeps its float64 copy up to {@link #FORMED_FOR_SPEED_BYTES} (else up to {@link
     * #KEEP_WIDE_BYTES}, as in session 7); false only in same-process A/B measurements.
     */
    static volatile boolean keepSpeedFormedWide = true;

    /**
     * Whether the ghost path on the native rows unfolds kernel-major ({@link NativeConvUnfold#unfoldRowsKernelMajor}:
     * runs of C contiguous floats, the clipped sum's [p, d] reordered after the matmul); false only in same-process
     * A/B measurements (docs/benchmarks.md "Session 9: resnet18-gn auto").
     */
    static volatile boolean kernelMajorRows = true;

    /** Largest in·d (multiply-adds per output position) for which {@code AUTO} unfolds by a one-hot convolution. */
    static final long ONE_HOT_LIMIT = 1024;

    @Override
    public Class<Layer.Conv2d> layerType() {
        return Layer.Conv2d.class;
    }

    @Override
    public Op lower(Layer.Conv2d layer, Lowering lowering) {
        RuleOptions.Norm norm = lowering.options().norm();
        if (norm == RuleOptions.Norm.GHOST && layer.weightStandardized()) {
            throw new IllegalArgumentException("the ghost norm cannot be forced on " + layer.name()
                    + ": a weight-standardised convolution needs the explicit per-sample gradient");
        }
        return new Forward(
                layer,
                lowering.store(),
                lowering.constants(),
                norm,
                unfoldPath(layer, lowering.options().unfold()),
                fusedFormation(layer, lowering.options().unfold()),
                oneCall(layer, lowering.options().unfold()));
    }

    /** The unfold a layer uses: {@code choice}, or for {@code AUTO} the heuristic (never {@code AUTO} itself). */
    static RuleOptions.Unfold unfoldPath(Layer.Conv2d layer, RuleOptions.Unfold choice) {
        boolean pointwise = layer.kernel() == 1 && layer.stride() == 1 && layer.padding() == 0;
        return switch (choice) {
            case AUTO, GROUPED -> {
                if (pointwise) yield RuleOptions.Unfold.RESHAPE;
                long d = (long) layer.in() * layer.kernel() * layer.kernel();
                yield layer.in() * d <= ONE_HOT_LIMIT ? RuleOptions.Unfold.ONE_HOT : RuleOptions.Unfold.SLICES;
            }
            case RESHAPE -> {
                if (!pointwise) {
                    throw new IllegalArgumentException("unfold RESHAPE needs a 1x1 kernel, stride 1 and no padding; "
                            + layer.name() + " has kernel " + layer.kernel() + ", stride " + layer.stride()
                            + ", padding " + layer.padding());
                }
                yield choice;
            }
            case ONE_HOT, SLICES, STRIDED -> choice;
        };
    }

    /**
     * Whether an explicit formation in float32 (a float32 or 16-bit model) takes {@link
     * NativeConvUnfold#perSampleGradient}: forced by {@code STRIDED}, and under {@code AUTO} for every kernel
     * that is not a pointwise reshape. Measured on small-cnn, batch 64 (docs/benchmarks.md "Session 6"):
     * conv1 (one-hot unfold + bmm) and conv2 (slices + bmm) each form in about half the time.
     */
    static boolean fusedFormation(Layer.Conv2d layer, RuleOptions.Unfold choice) {
        return switch (unfoldPath(layer, choice)) {
            case STRIDED -> true;
            case RESHAPE -> false;
            default -> choice == RuleOptions.Unfold.AUTO || choice == RuleOptions.Unfold.GROUPED;
        };
    }

    /** How a small explicit float32 formation is made in one native call ({@link NativeConvUnfold#formedGradients}). */
    enum OneCall {
        /** Not in one call: the formation of {@link #fusedFormation} or the unfold, then casts and norms. */
        NONE,
        /** The weight-order unfold and a batched matmul. */
        UNFOLD,
        /** The weight gradient of one grouped convolution, a group per slot. */
        GROUPED
    }

    /** Fewest input channels for which {@code AUTO}'s one-call formation takes the grouped convolution. */
    static final int GROUPED_MIN_CHANNELS = 8;

    /**
     * The one-call formation of a layer ({@link Record#measureFormed} takes it where the float64 gradient is at
     * most {@link #KEEP_WIDE_BYTES} and there is no weight standardisation): {@code GROUPED} forces
     * the grouped convolution; {@code AUTO} takes it from {@link #GROUPED_MIN_CHANNELS} input channels and the
     * unfold below, for every kernel but a pointwise reshape. Measured on small-cnn, batch 64, 2 threads
     * (docs/benchmarks.md "Session 7"): conv1 (1 channel) forms, casts and takes its norms in 1.2 ms by the
     * unfold against 2.1 ms grouped and 2.0 ms before; conv2 (16 channels) in 1.9 ms grouped against 3.0 ms by
     * the unfold and 4.2 ms before.
     */
    static OneCall oneCall(Layer.Conv2d layer, RuleOptions.Unfold choice) {
        if (choice == RuleOptions.Unfold.GROUPED) return OneCall.GROUPED;
        if (choice != RuleOptions.Unfold.AUTO || unfoldPath(layer, choice) == RuleOptions.Unfold.RESHAPE)
            return OneCall.NONE;
        return layer.in() >= GROUPED_MIN_CHANNELS ? OneCall.GROUPED : OneCall.UNFOLD;
    }

    /**
     * Whether the weight's norm is taken by the ghost norm, for T' positions per slot, p outputs, d = in·k·k,
     * and per-sample gradients formed in {@code formedBytes}-byte floats (8 in a float64 model, else 4).
     * {@code MIXED} is Bu et al.'s memory rule in bytes: ghost when its two float64 Gram matrices per slot,
     * 2·8·T'², take no more than the formed gradient, formedBytes·p·d (2T'² ≤ p·d in float64, as in the paper;
     * 4T'² ≤ p·d when the gradient is formed in float32). Time agrees: the ghost path also pays a float64
     * matmul of the same size as the float32 batched one that forms the gradient.
     */
    static boolean useGhost(
            RuleOptions.Norm choice, long positions, long p, long d, boolean standardized, int formedBytes) {
        return switch (choice) {
            case MIXED -> !standardized && 16 * positions * positions <= formedBytes * p * d;
            case GHOST -> true;
            case EXPLICIT -> false;
        };
    }

    /**
     * Whether a weight's norm is taken by the ghost norm in a step of {@code slots} slots: {@link #useGhost}, except that
     * {@code MIXED} in a float32 or 16-bit model ({@code formedBytes} 4) forms the gradient instead where that is faster
     * ({@link #formedIsFaster}) and small ({@link #FORMED_FOR_SPEED_BYTES}). Bu et al.'s rule counts memory only;
     * at many positions and few channels (resnet18-gn's layer1 at 3x32x32: T' = 64, p = 64, d = 576) the ghost path's
     * two float64 matmuls (the Gram aaᵀ, S·T'²·d, and the clipped sum, S·T'·p·d) cost ~3× the float32 bmm that forms
     * the gradient. Either path is exact (the choice is speed and memory only, never privacy).
     */
    static boolean ghostNorm(
            RuleOptions.Norm choice,
            long slots,
            long positions,
            long p,
            long d,
            boolean standardized,
            int formedBytes) {
        if (!useGhost(choice, positions, p, d, standardized, formedBytes)) return false;
        if (choice != RuleOptions.Norm.MIXED || formedBytes != 4) return true;
        return slots * p * d * 8 > FORMED_FOR_SPEED_BYTES || !formedIsFaster(positions, p, d);
    }

    /**
     * Whether forming a per-sample gradient in float32 costs less than the ghost path, per slot, in float64
     * multiply-adds: ghost T'²·(d + p) (the two Gram matrices) + T'·p·d (its share of the clipped-sum matmul);
     * formed T'·p·d/2 (the float32 bmm, at twice float64's rate) + {@link #FORMED_PASSES}·p·d (its passes over
     * memory). Both unfold the input once per use; that cost is left out of both sides.
     */
    static boolean formedIsFaster(long positions, long p, long d) {
        double t = positions;
        double ghost = t * t * (d + p) + t * p * d;
        double formed = t * p * d / 2 + (double) FORMED_PASSES * p * d;
        return formed < ghost;
    }

    /** The lowered layer. */
    static final class Forward implements Op {
        final Layer.Conv2d layer;
        final Constants constants;
        final ParameterStore store;
        final RuleOptions.Norm norm;
        final RuleOptions.Unfold unfold;
        final boolean fusedFormation;
        final OneCall oneCall;
        final int weight;
        final int bias;

        /**
         * A forward on a resolved unfold path (never {@code AUTO}): fused formation only for {@code STRIDED}, no
         * one-call formation.
         */
        Forward(
                Layer.Conv2d layer,
                ParameterStore store,
                Constants constants,
                RuleOptions.Norm norm,
                RuleOptions.Unfold unfold) {
            this(layer, store, constants, norm, unfold, unfold == RuleOptions.Unfold.STRIDED, OneCall.NONE);
        }

        Forward(
                Layer.Conv2d layer,
                ParameterStore store,
                Constants constants,
                RuleOptions.Norm norm,
                RuleOptions.Unfold unfold,
                boolean fusedFormation,
                OneCall oneCall) {
            this.layer = layer;
            this.oneCall = oneCall;
            this.store = store;
            this.constants = constants;
            this.norm = norm;
            this.unfold = unfold;
            this.fusedFormation = fusedFormation;
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
            NDArray w = store.value(weight);
            NDArray[] standardized = layer.weightStandardized() ? standardize(w) : null;
            NDArray effective = standardized == null ? w : standardized[0];
            NDArray b = bias >= 0 ? store.value(bias) : null;
            // Nothing recorded: a 1x1 output is one GEMM over its zero-padded window (WindowConv).
            NDArray y = tape.recording() ? null : WindowConv.apply(x, effective, b, layer.stride(), layer.padding());
            if (y == null) y = conv(x, effective, b);
            if (!tape.recording() || !(weightTrainable() || biasTrainable())) return y;
            NDArray[] yz = tape.withLeaf(y);
            tape.add(new Record(this, tape, x, yz[1], standardized));
            return yz[0];
        }

        private NDArray conv(NDArray x, NDArray w, NDArray b) {
            int s = layer.stride();
            int p = layer.padding();
            return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, b, new Shape(s, s), new Shape(p, p), new Shape(1, 1), 1)
                    .singletonOrThrow();
        }

        /**
         * Maps gradients w.r.t. the standardised weight ([..., out, d], d = in*k*k) to gradients w.r.t.
         * the raw weight: (g - mean(g) - ŵ·mean(g·ŵ)) / std per output channel. Linear in g.
         */
        NDArray standardizationBackward(NDArray g, NDArray[] standardized) {
            long d = (long) layer.in() * layer.kernel() * layer.kernel();
            NDArray wHat = standardized[0].reshape(layer.out(), d);
            NDArray std = standardized[1].reshape(layer.out(), 1);
            NDArray centered = g.sub(g.mean(new int[] {-1}, true));
            return centered.sub(wHat.mul(g.mul(wHat).mean(new int[] {-1}, true)))
                    .div(std);
        }

        /**
         * im2col of the input: [N, T, d] with T output positions and d = in*k*k; see {@link #kernelMajor}
         * for the order of d. DJL has no unfold op. RESHAPE (1x1, stride 1, no padding): the input
         * itself, transposed. ONE_HOT (the default for few input channels, a network's first layer):
         * one dense convolution with a fixed one-hot kernel, a single cheap op, in PyTorch weight
         * order (c, kh, kw). SLICES: the padded input once in NHWC, then k*k strided slices [N, Ho, Wo, C]
         * stacked into [N, Ho, Wo, k*k, C], which is [N, T, d] in (kh, kw, c) order with no further
         * copy. Each slice then moves runs of C contiguous floats; stacking NCHW slices on a last axis
         * (the earlier layout, in weight order) moved single floats and was the step's largest op for
         * small-cnn. Position-major rows let the clipped sum use the unfolded input as a [S·T', d]
         * matrix without copying it. STRIDED: {@link NativeConvUnfold#unfold}'s [N, d, T] copy in weight
         * order, returned transposed (a view; the clipped sum's [S·T', d] then copies it).
         */
        NDArray unfold(NDArray x) {
            Shape s = x.getShape();
            long n = s.get(0);
            int k = layer.kernel();
            int st = layer.stride();
            int p = layer.padding();
            if (unfold == RuleOptions.Unfold.RESHAPE)
                return x.reshape(n, layer.in(), -1).transpose(0, 2, 1);
            long d = (long) layer.in() * k * k;
            if (unfold == RuleOptions.Unfold.STRIDED)
                return constants.convUnfold().unfold(x, k, st, p, 1).transpose(0, 2, 1);
            if (unfold == RuleOptions.Unfold.ONE_HOT) {
                NDArray cols = ai.djl.nn.convolutional.Conv2d.conv2d(
                                x,
                                constants.oneHotKernel(layer.in(), k),
                                null,
                                new Shape(st, st),
                                new Shape(p, p),
                                new Shape(1, 1),
                                1)
                        .singletonOrThrow();
                return cols.reshape(n, d, -1).transpose(0, 2, 1);
            }
            NDArray padded = p == 0 ? x : x.pad(new Shape(p, p, p, p), 0);
            long hp = s.get(2) + 2L * p;
            long wp = s.get(3) + 2L * p;
            // transpose is a view; the reshape to [N, -1] cannot be one, so it makes a contiguous NHWC copy.
            NDArray nhwc = padded.transpose(0, 2, 3, 1).reshape(n, -1).reshape(n, hp, wp, layer.in());
            long ho = (hp - k) / st + 1;
            long wo = (wp - k) / st + 1;
            NDList slices = new NDList(k * k);
            for (int kh = 0; kh < k; kh++) {
                for (int kw = 0; kw < k; kw++) {
                    slices.add(nhwc.get(":, " + kh + ":" + (kh + st * (ho - 1) + 1) + ":" + st + ", " + kw + ":"
                            + (kw + st * (wo - 1) + 1) + ":" + st + ", :"));
                }
            }
            return NDArrays.stack(slices, 3).reshape(n, ho * wo, d);
        }

        /**
         * Whether {@link #unfold}'s d axis is in (kh, kw, c) order rather than PyTorch's weight order
         * (c, kh, kw): the SLICES path with k > 1. (For 1x1 kernels the two agree.)
         */
        boolean kernelMajor() {
            return layer.kernel() > 1 && unfold == RuleOptions.Unfold.SLICES;
        }

        /** Reorders the last axis of [..., p, d] from (kh, kw, c) to the weight's (c, kh, kw). */
        NDArray kernelMajorToWeightOrder(NDArray m) {
            Shape s = m.getShape();
            int kk = layer.kernel() * layer.kernel();
            long[] split = new long[s.dimension() + 1];
            for (int i = 0; i < s.dimension() - 1; i++) split[i] = s.get(i);
            split[s.dimension() - 1] = kk;
            split[s.dimension()] = layer.in();
            int[] axes = new int[split.length];
            for (int i = 0; i < axes.length; i++) axes[i] = i;
            axes[axes.length - 2] = axes.length - 1;
            axes[axes.length - 1] = axes.length - 2;
            return m.reshape(new Shape(split)).transpose(axes).reshape(s);
        }
    }

    /** Returns {standardised weight, per-channel std [out,1,1,1]}. */
    static NDArray[] standardize(NDArray w) {
        int[] axis = {1};
        NDArray rows = w.reshape(w.getShape().get(0), -1);
        NDArray centered = rows.sub(rows.mean(axis, true));
        NDArray std = centered.square().mean(axis, true).add(WS_EPS).sqrt();
        return new NDArray[] {centered.div(std).reshape(w.getShape()), std};
    }

    /**
     * What one convolution records for book-keeping. Memory (issue 12 §3): the float64 output
     * gradient [S, T', p] and unfolded input [S, T', d] are the largest tensors of a step (the
     * unfold is k² times the input, the cast doubles it), so they live only inside one phase of one
     * layer ({@link TapScope}). The explicit path keeps its per-sample gradient [S, p, d] for the
     * clipped sum (in float32 unless the model is float64; MIXED takes it only where it is smaller
     * than the Gram matrices it replaces); the ghost path rebuilds both tensors from the step's input and output gradient in
     * {@link #accumulateClipped}. The rebuild must be bit-identical to what {@link #measure} saw, so
     * that the slack it reported still bounds the sum's error ({@link ClipBound}): a cast and a
     * reshape of the output gradient, and the RESHAPE and SLICES unfolds, are pure copies. The
     * ONE_HOT unfold is a convolution, which a library may compute by a transform that rounds
     * (Winograd), so a ghost layer unfolded that way keeps its float64 unfold instead (it is used
     * only where in·d ≤ 1024: few input channels, small). So does any ghost layer whose float64 unfold
     * is at most {@link #KEEP_UNFOLD_BYTES}: unfolding twice cost resnet18-gn at 3x32x32 ~50 ms of CPU
     * per step for ~58 MB held across its 15 ghost layers.
     */
    static final class Record implements Tap {
        private final Forward op;
        private final Tape tape; // where a cut leaf's gradient waits for the harvest (Tape#takeGradient)
        private final int slots;
        private final int copies;
        private NDArray input; // the forward's input, detached (Tape.alias)
        private final NDArray lent; // Tape.lent
        // The output's leaf (Tape.withLeaf: the output itself, a cut, or a zero leaf); null after harvest.
        private NDArray zero;
        private NDArray grad; // the leaf's gradient [S·K, p, Ho, Wo], compute type, loss scale in: from harvest
        private final NDArray[] standardized;
        private NDArray perSample; // [S, p, d] float64 when formed explicitly in a float64 model or standardised
        private NDArray perSample32; // [S, p, d] float32, loss scale in: formed explicitly in any other model
        private NDArray perSampleWide; // [S, p, d] float64 copy of the formed float32 one, unscaled: kept when small
        private NDArray biasPerSample; // [S, p]
        private NDArray keptUnfold; // [S, T', d] float64: ghost norm over a ONE_HOT or a small unfold
        private NDArray keptOutGrad; // [S, T', p] float64: ghost norm whose unfold is kept, the gradient small
        private boolean formedKernelMajor; // perSample/perSample32's columns are in (kh, kw, c) order
        private int[] liveWindow; // ghost on the native rows: {kh0, rows, kw0, columns} of the live taps; null = all
        private int[] kernelMajorWindow; // the last unfold was kernel-major over these taps ({kh0, rows, kw0, columns})

        Record(Forward op, Tape tape, NDArray input, NDArray zero, NDArray[] standardized) {
            this.op = op;
            this.tape = tape;
            this.slots = tape.slots;
            this.copies = tape.copies;
            this.input = Tape.alias(input);
            this.lent = Tape.lent(input);
            this.zero = zero;
            this.standardized = standardized;
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
            // Made from the parameters during the forward pass (no autograd history): kept as they are.
            if (standardized != null) out.addAll(List.of(standardized));
            return out;
        }

        /** Closes the harvested gradient and input: called once their last use is done, to free them early. */
        private void release() {
            if (grad != null) grad.close();
            if (input != null) input.close();
            grad = null;
            input = null;
        }

        /** The output gradient as [S, T', p] float64, rows position-major like {@link Forward#unfold}. */
        private NDArray outGrad() {
            return TapScope.one(() -> {
                NDArray g = op.store.lossScale().unscaled(grad);
                long p = g.getShape().get(1);
                long tPrime = g.getShape().get(2) * g.getShape().get(3) * copies;
                return g.reshape(g.getShape().get(0), p, -1).transpose(0, 2, 1).reshape(slots, tPrime, p);
            });
        }

        /**
         * Whether {@link #unfolded} takes {@link NativeConvUnfold#unfoldRows} (weight-order columns, one strided copy)
         * instead of the SLICES unfold: where {@code AUTO} chose SLICES (it then forms by the fused native call,
         * {@link Forward#fusedFormation}); a forced SLICES keeps its own path, so tests still compare it.
         */
        private boolean nativeRows() {
            return op.unfold == RuleOptions.Unfold.SLICES && op.fusedFormation;
        }

        /** Reorders [..., p, d] from {@link #unfolded}'s column order to the weight's (c, kh, kw). */
        private NDArray fromUnfoldOrder(NDArray m) {
            return op.kernelMajor() && !nativeRows() ? op.kernelMajorToWeightOrder(m) : m;
        }

        /** The live-tap window of the last unfold ({kh0, rows, kw0, columns}), null when it took every tap: for tests. */
        int[] liveWindow() {
            return liveWindow == null ? null : liveWindow.clone();
        }

        /**
         * The unfolded input as [S, T', d] float64; the float32 unfold and its pieces are freed on return. {@code live}
         * (the ghost norm and its clipped sum): on the native rows, only the columns of the kernel taps that read the
         * real input ({@link #liveWindow}); the others are exactly zero, so the Gram matrix, M and the clipped sum
         * have the same exact values without them (their float64 roundings may differ from the whole unfold's, within
         * the same bound: γ still counts the whole d; the sum is added into the window's taps of the whole kernel's accumulator).
         */
        private NDArray unfolded(long tPrime, boolean live) {
            liveWindow = null; // set anew by each unfold, so the clipped sum reads the window of the unfold it uses
            kernelMajorWindow = null;
            if (live && liveTaps && nativeRows()) {
                Shape in = input.getShape();
                Layer.Conv2d l = op.layer;
                int[] h = NativeConvUnfold.liveTaps(in.get(2), l.kernel(), l.stride(), l.padding());
                int[] w = NativeConvUnfold.liveTaps(in.get(3), l.kernel(), l.stride(), l.padding());
                if (h[1] < l.kernel() || w[1] < l.kernel()) liveWindow = new int[] {h[0], h[1], w[0], w[1]};
            }
            // The ghost norm and its sum only (live): the explicit float64 path forms gᵀa in the unfold's column order.
            if (live && kernelMajorRows && nativeRows())
                kernelMajorWindow =
                        liveWindow != null ? liveWindow : new int[] {0, op.layer.kernel(), 0, op.layer.kernel()};
            return TapScope.one(() -> {
                // RESHAPE, SLICES and the native rows only copy: unfolding the float64 input gives the same values
                // as casting the float32 unfold, without the float32 copy. ONE_HOT is a convolution in the compute
                // type. The native rows come in weight order: the clipped sum needs no reorder of its [p, d] result
                // (measured: docs/benchmarks.md "Session 7: resnet18-gn auto").
                Layer.Conv2d l = op.layer;
                NDArray u = op.unfold == RuleOptions.Unfold.ONE_HOT
                        ? Precision.f64(op.unfold(input))
                        : kernelMajorWindow != null
                                ? op.constants
                                        .convUnfold()
                                        .unfoldRowsKernelMajor(
                                                Precision.f64(input),
                                                l.kernel(),
                                                l.stride(),
                                                l.padding(),
                                                copies,
                                                kernelMajorWindow)
                                : nativeRows()
                                        ? op.constants
                                                .convUnfold()
                                                .unfoldRows(
                                                        Precision.f64(input),
                                                        l.kernel(),
                                                        l.stride(),
                                                        l.padding(),
                                                        copies,
                                                        liveWindow == null
                                                                ? new int[] {0, l.kernel(), 0, l.kernel()}
                                                                : liveWindow)
                                        : op.unfold(Precision.f64(input));
                ClipBound.checkSize(u.size(), "the unfolded input of " + op.layer.name());
                return u.reshape(slots, tPrime, u.getShape().get(2));
            });
        }

        @Override
        public void measure(SlotNorms norms) {
            Shape y = grad.getShape();
            long tPrime = y.get(2) * y.get(3) * copies;
            long p = y.get(1);
            long d = (long) op.layer.in() * op.layer.kernel() * op.layer.kernel();
            boolean float64 = grad.getDataType() == DataType.FLOAT64;
            boolean ghost = op.weightTrainable()
                    && ghostNorm(op.norm, slots, tPrime, p, d, standardized != null, float64 ? 8 : 4);
            if (!ghost && !float64) {
                // Formed for speed where Bu et al.'s memory rule would take the ghost norm ({@link #ghostNorm}): its
                // float64 copy (at most FORMED_FOR_SPEED_BYTES) is kept for the clipped sum rather than cast again.
                boolean forSpeed = op.weightTrainable() && useGhost(op.norm, tPrime, p, d, standardized != null, 4);
                measureFormed(
                        norms,
                        tPrime,
                        p,
                        d,
                        forSpeed && keepSpeedFormedWide ? FORMED_FOR_SPEED_BYTES : KEEP_WIDE_BYTES);
                return;
            }
            NDArray outGrad = outGrad();
            if (op.weightTrainable()) {
                NDArray unfolded = unfolded(tPrime, ghost);
                if (ghost) {
                    ClipBound.checkSize((long) slots * tPrime * tPrime, "the Gram matrix of " + op.layer.name());
                    NDArray aa = unfolded.matMul(unfolded.transpose(0, 2, 1));
                    NDArray gg = outGrad.matMul(outGrad.transpose(0, 2, 1));
                    NDArray prod = aa.mul(gg);
                    NDArray sq = prod.sum(new int[] {1, 2});
                    // M = Σ_t ‖a_t‖‖g_t‖ from the Grams' diagonals: aa_tt = ‖a_t‖² is a float64 sum of d non-negative
                    // products, as a separate square-and-sum over the [S, T', d] unfold would be (the same relative
                    // error, which ClipBound.gamma covers), without that pass over the unfold (issue 12 §1).
                    String diagonal = ":, ::" + (tPrime + 1);
                    NDArray m = aa.reshape(slots, tPrime * tPrime)
                            .get(diagonal)
                            .sqrt()
                            .mul(gg.reshape(slots, tPrime * tPrime)
                                    .get(diagonal)
                                    .sqrt())
                            .sum(new int[] {1});
                    // The [S, T', T'] Gram matrices are the largest temporaries of a layer: free them now.
                    aa.close();
                    gg.close();
                    prod.close();
                    norms.addUnformed(
                            op.weight,
                            sq,
                            m,
                            ClipBound.gamma(d + p + tPrime * tPrime),
                            ClipBound.gamma(slots * tPrime));
                    if (op.unfold == RuleOptions.Unfold.ONE_HOT || unfolded.size() * 8 <= keepUnfoldBytes)
                        keptUnfold = unfolded;
                    if (keepOutGrad && keptUnfold != null && outGrad.size() * 8 <= KEEP_OUT_GRAD_BYTES)
                        keptOutGrad = outGrad;
                } else {
                    perSample = outGrad.transpose(0, 2, 1).matMul(unfolded);
                    // Norms do not depend on the column order; the standardisation Jacobian does.
                    if (standardized != null) {
                        NDArray[] ws = {Precision.f64(standardized[0]), Precision.f64(standardized[1])};
                        perSample = op.standardizationBackward(fromUnfoldOrder(perSample), ws);
                    }
                    norms.add(op.weight, perSample.square().sum(new int[] {1, 2}));
                }
                if (keptUnfold == null) unfolded.close();
            }
            if (op.biasTrainable()) {
                biasPerSample = outGrad.sum(new int[] {1});
                norms.add(op.bias, biasPerSample.square().sum(new int[] {1}));
            }
            // The clipped sum reads the output gradient and input again only on the ghost path.
            if (!ghost) release();
        }

        /**
         * The explicit path of a float32 or 16-bit model: per-sample weight gradients formed by one batched
         * float32 matmul of the float32 output gradient [S, p, T'] and unfold [S, T', d], biases by a float32
         * sum over positions (16-bit tensors are cast up first, exactly). Each formed value is a function of
         * its own example only, and its norm and its share of the clipped sum are both computed in float64
         * from that same formed value (cast and loss-scale division exact), so {@link ClipBound}'s "formed"
         * case holds unchanged: only the float64 unfold and output gradient, and a float64 matmul, are saved.
         */
        private void measureFormed(SlotNorms norms, long tPrime, long p, long d, long keepWideBytes) {
            LossScale scale = op.store.lossScale();
            if (op.oneCall != OneCall.NONE && standardized == null && (long) slots * p * d * 8 <= KEEP_WIDE_BYTES) {
                measureInOneCall(norms);
                return;
            }
            NDArray g = TapScope.one(() -> slotMajor(Precision.atLeast32(grad), p));
            if (op.weightTrainable()) {
                ClipBound.checkSize(p * d, "the per-sample gradient of " + op.layer.name());
                ClipBound.checkSize(slots * tPrime * d, "the unfolded input of " + op.layer.name());
                Layer.Conv2d l = op.layer;
                formedKernelMajor = op.fusedFormation
                        ? l.kernel() > 1
                                && NativeConvUnfold.kernelMajor(
                                        l.in(), l.kernel(), grad.getShape().get(3))
                        : op.kernelMajor();
                NDArray formed = TapScope.one(() -> {
                    if (op.fusedFormation) {
                        // Unfold and batched matmul in one native call; a 16-bit input is cast up first (exact,
                        // and the unfold copies, so cast-then-copy equals copy-then-cast).
                        return op.constants
                                .convUnfold()
                                .perSampleGradient(
                                        Precision.atLeast32(input),
                                        g,
                                        l.kernel(),
                                        l.stride(),
                                        l.padding(),
                                        copies,
                                        formedKernelMajor);
                    }
                    NDArray u = Precision.atLeast32(op.unfold(input));
                    return g.matMul(u.reshape(slots, tPrime, d));
                });
                if (standardized != null) {
                    perSample = TapScope.one(() -> op.standardizationBackward(
                            weightOrder(scale.unscaled(formed)),
                            new NDArray[] {Precision.f64(standardized[0]), Precision.f64(standardized[1])}));
                    formed.close();
                    norms.add(op.weight, TapScope.one(() -> perSample.square().sum(new int[] {1, 2})));
                } else {
                    // Σ x² per slot as a batched dot product of the float64 copy with itself: one pass, no [S, p, d]
                    // of squares (all terms non-negative, so its error is relative as before).
                    NDArray wide = scale.unscaled(formed);
                    NDArray x = wide.reshape(slots, 1, -1);
                    norms.add(
                            op.weight,
                            TapScope.one(() -> x.matMul(x.transpose(0, 2, 1)).reshape(slots)));
                    if (wide.size() * 8 <= keepWideBytes) {
                        perSampleWide = wide; // the same float64 values the clipped sum would cast again
                        formed.close();
                    } else {
                        perSample32 = formed;
                        wide.close();
                    }
                }
            }
            if (op.biasTrainable()) {
                biasPerSample = TapScope.one(() -> scale.unscaled(g.sum(new int[] {2})));
                norms.add(op.bias, TapScope.one(() -> biasPerSample.square().sum(new int[] {1})));
            }
            g.close();
            release(); // everything the clipped sum needs is formed: free this layer's output gradient now
        }

        /**
         * {@link #measureFormed} for a small layer with no weight standardisation: formation,
         * float64 casts and squared norms of the weight's and the bias's per-sample gradients in one native call
         * ({@link NativeConvUnfold#formedGradients}), the same formed-then-cast values as the stepwise path, in
         * weight order; both float64 gradients are kept for the clipped sum ({@link #perSampleWide}).
         */
        private void measureInOneCall(SlotNorms norms) {
            boolean w = op.weightTrainable();
            boolean b = op.biasTrainable();
            Layer.Conv2d l = op.layer;
            NDList out = op.constants
                    .convUnfold()
                    .formedGradients(
                            Precision.atLeast32(input),
                            Precision.atLeast32(grad),
                            l.kernel(),
                            l.stride(),
                            l.padding(),
                            copies,
                            w,
                            b,
                            (long) op.store.lossScale().value,
                            op.oneCall == OneCall.GROUPED);
            int i = 0;
            if (w) {
                formedKernelMajor = false;
                perSampleWide = out.get(i++);
                norms.add(op.weight, out.get(i++));
            }
            if (b) {
                biasPerSample = out.get(i++);
                norms.add(op.bias, out.get(i));
            }
            release(); // everything the clipped sum needs is formed: free this layer's output gradient now
        }

        /** [..., p, d] formed by {@link #measureFormed}, with d in weight order (c, kh, kw). */
        private NDArray weightOrder(NDArray m) {
            return formedKernelMajor ? op.kernelMajorToWeightOrder(m) : m;
        }

        /** A leaf gradient [S·K, p, Ho, Wo] as [S, p, K·Ho·Wo], columns in the unfold's row order (a view for K = 1). */
        private NDArray slotMajor(NDArray g, long p) {
            if (copies == 1) return g.reshape(slots, p, -1);
            return g.reshape(slots, copies, p, -1).transpose(0, 2, 1, 3).reshape(slots, p, -1);
        }

        /**
         * Adds the clipped sum [p, C·rows·columns] over {@link #liveWindow}'s taps into those taps of the weight's
         * accumulator [p, C, k, k], one float64 addition per coordinate as {@code addi}, the other taps' coordinates
         * left as they are: their columns of the whole unfold are zero in every row, so the whole matmul would have
         * added Σ c·g·0 = 0 there. After a drain, the accumulator starts as zeros ({@link ParameterStore#accumulator}).
         */
        private void addToLiveTaps(NDArray sum) {
            // After a drain the accumulator is fresh zeros (0 + s = s exactly): session 9 measured zeros and one
            // add_ over the window 2–6% less CPU per clipped gradient than padding the sum with zeros (layer4: a
            // 19 MB float64 accumulator each, written once either way; docs/benchmarks.md "Session 9").
            op.constants.convUnfold().addToTaps(op.store.accumulator(op.weight), sum, liveWindow);
        }

        @Override
        public List<NDArray> kept() {
            List<NDArray> out = new ArrayList<>(3);
            if (perSample != null) out.add(perSample);
            if (perSample32 != null) out.add(perSample32);
            if (perSampleWide != null) out.add(perSampleWide);
            if (biasPerSample != null) out.add(biasPerSample);
            if (keptUnfold != null) out.add(keptUnfold);
            if (keptOutGrad != null) out.add(keptOutGrad);
            return out;
        }

        @Override
        public void accumulateClipped(ClipFactors f) {
            if (op.weightTrainable()) {
                NDArray c = f.of(op.weight);
                NDArray sum;
                if (perSample32 != null || perSampleWide != null) {
                    // The same float64 values measure squared: the cast and the division by 2^k are exact.
                    // Σ_i c_i G̃_i as one float64 product cᵀ[S, p·d] (a per-coordinate dot product, error relative).
                    NDArray formed = perSampleWide != null
                            ? perSampleWide
                            : op.store.lossScale().unscaled(perSample32);
                    Shape ps = formed.getShape();
                    sum = ClippedSums.of(c, f.select(formed));
                    // Weight order already (the one-call formation's): the accumulator takes the [p·d] row as is.
                    if (formedKernelMajor) sum = weightOrder(sum.reshape(ps.get(1), ps.get(2)));
                    formed.close();
                    if (perSample32 != null) perSample32.close();
                    perSample32 = null;
                    perSampleWide = null;
                } else if (perSample != null) {
                    sum = f.select(perSample).mul(c.reshape(slots, 1, 1)).sum(new int[] {0});
                    if (standardized == null) sum = fromUnfoldOrder(sum);
                    perSample.close(); // its share is taken: free it before the next layer's
                    perSample = null;
                } else {
                    // The kept float64 output gradient is the one measure read (a rebuild is the same copy, bit for
                    // bit).
                    NDArray outGrad = keptOutGrad != null ? keptOutGrad : outGrad();
                    keptOutGrad = null;
                    long p = outGrad.getShape().get(2);
                    NDArray unfolded = keptUnfold != null
                            ? keptUnfold
                            : unfolded(outGrad.getShape().get(1), true);
                    long d = unfolded.getShape().get(2);
                    NDArray scaled =
                            f.select(outGrad).mul(c.reshape(slots, 1, 1)).reshape(-1, p);
                    NDArray product =
                            scaled.transpose().matMul(f.select(unfolded).reshape(-1, d));
                    outGrad.close();
                    // Kernel-major rows: the [p, rows·columns·C] product back to (c, kh, kw), a copy (exact).
                    sum = kernelMajorWindow != null
                            ? NativeConvUnfold.kernelMajorToWindowOrder(
                                    product, kernelMajorWindow[1], kernelMajorWindow[3])
                            : fromUnfoldOrder(product);
                    unfolded.close();
                    keptUnfold = null;
                    release();
                    if (liveWindow != null) {
                        addToLiveTaps(sum);
                        sum = null;
                    }
                }
                if (sum != null) op.store.addToAccumulator(op.weight, sum);
            }
            if (op.biasTrainable()) {
                op.store.addToAccumulator(op.bias, ClippedSums.of(f.of(op.bias), f.select(biasPerSample)));
                biasPerSample = null;
            }
        }
    }
}
