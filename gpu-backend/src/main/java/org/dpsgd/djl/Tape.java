package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;

/**
 * What the book-keeping strategy records during the forward pass: for every layer with trainable
 * parameters, its {@link Tap}: for conv and linear layers the layer's input (a detached alias,
 * {@link #alias}) and a zero leaf added to its output, whose gradient after the backward pass is the
 * per-sample output gradient; for GroupNorm per-row leaves of γ and β, whose gradients are the
 * per-sample gradients themselves.
 */
final class Tape {
    static final Tape NONE = new Tape(null, 0, 0);

    private final NDManager manager;
    final int slots;
    final int copies;
    private final List<Tap> taps = new ArrayList<>();
    private boolean leafMade; // whether a leaf of this tape is in the forward pass yet

    Tape(NDManager manager, int slots, int copies) {
        this.manager = manager;
        this.slots = slots;
        this.copies = copies;
    }

    boolean recording() {
        return manager != null;
    }

    /**
     * Adds a zero leaf that requires a gradient to {@code y}; returns y + leaf and the leaf. Before the
     * pass's first leaf, y itself becomes the leaf instead: returns a view of y (for the next op) and y.
     */
    NDArray[] withLeaf(NDArray y) {
        if (!leafMade && !y.hasGradient()) {
            // Nothing in a recorded forward pass requires a gradient but this tape's leaves: the book-keeping
            // strategy, the only one that records, takes the parameters out of autograd first
            // (ParameterStore.freshLeaves(false)), and the batch input has none. So before the first leaf y has
            // no autograd history (a network's first parametrised layer) and can be the leaf itself: its gradient
            // is dL/dy, the values y + 0's leaf gets, with no add over y (issue 12 §1). (DJL's hasGradient only
            // sees a leaf's own flag, so the order, not it, is the test of history.) Op.chain may close the
            // view's handle; the tap keeps y's.
            leafMade = true;
            y.setRequiresGradient(true);
            return new NDArray[] {y.reshape(y.getShape()), y};
        }
        leafMade = true;
        // One stored zero broadcast to y's shape (a stride-0 view): the leaf costs one element instead of
        // a tensor of y's size per layer, held all step (issue 12 §3). Its gradient is still y's full shape.
        NDArray zero = manager.zeros(new Shape(1), y.getDataType()).broadcast(y.getShape());
        zero.setRequiresGradient(true);
        // In place: the layers that call this (conv, linear, GroupNorm affine) produce y by ops whose
        // backward does not need y itself, so autograd allows y += leaf and one allocation is saved.
        return new NDArray[] {y.addi(zero), zero};
    }

    /**
     * The gradient the backward pass left on a tap's leaf. DJL's {@code getGradient} returns fresh zeros where
     * autograd left none, which would make that layer's per-sample gradients silently zero (its norm and its
     * share both from the same zeros, so the bound would hold, but the model would not learn through it); a
     * leaf cut off from the loss is a bug, so this refuses it (review of session 9: a leaf placed on an output
     * with autograd history gets no gradient, and DJL offers no check for history, see {@link #withLeaf}).
     */
    static NDArray gradientOf(NDArray leaf) {
        NDArray g = JniUtils.getGradient((PtNDArray) leaf);
        if (g == null) throw new IllegalStateException("a tap's leaf got no gradient in the backward pass");
        return g;
    }

    /**
     * A per-row copy of a parameter {@code p} of shape [1, ...]: a leaf [rows, ...] that requires a
     * gradient, each row equal to p. Used in p's place, its gradient after the backward pass is
     * row n's gradient of p, formed by autograd in the compute type: a per-sample gradient with no
     * full-size tensor kept for it (GroupNorm's γ and β, issue 12 §3). A real copy, not a stride-0
     * view, so every row's gradient is its own.
     */
    NDArray perRowLeaf(NDArray p, long rows) {
        long[] dims = p.getShape().getShape();
        if (dims.length == 0 || dims[0] != 1)
            throw new IllegalArgumentException("expected [1, ...], got " + p.getShape());
        // stopGradient: the copy must be a leaf whatever p is (the store's values are leaves themselves). One tile
        // (PyTorch's repeat, a fresh contiguous copy) where a broadcast view and its duplicate were two ops.
        long[] times = new long[dims.length];
        java.util.Arrays.fill(times, 1);
        times[0] = rows;
        NDArray leaf = p.stopGradient().tile(times);
        leaf.setRequiresGradient(true);
        leafMade = true;
        return leaf;
    }

    /**
     * A layer input {@code x} for a tap to keep: a detached alias, same storage, no autograd history, a
     * handle of the tap's own. The forward pass may close x's handle as soon as the next op has used it
     * ({@link Op#chain}), and keeping the alias past the backward pass ({@link Tap#harvest}) keeps neither
     * the graph nor, through it, any leaf's gradient alive; the tap closes it when done.
     */
    static NDArray alias(NDArray x) {
        return x.stopGradient();
    }

    /**
     * What a tap must also keep open with {@link #alias}'s result: x itself where x has no autograd
     * history and so may be the batch input, whose staging buffer is lent out for as long as that array
     * is open ({@link HostStaging}); null otherwise. See {@link #keepInput}.
     */
    static NDArray lent(NDArray x) {
        return x.hasGradient() ? null : x;
    }

    /** Adds a tap's input alias, and its {@link #lent} array where that is still open, to {@code keep}. */
    static void keepInput(List<NDArray> keep, NDArray alias, NDArray lent) {
        keep.add(alias);
        if (lent != null && !lent.isReleased()) keep.add(lent);
    }

    void add(Tap tap) {
        taps.add(tap);
    }

    List<Tap> taps() {
        return taps;
    }
}
