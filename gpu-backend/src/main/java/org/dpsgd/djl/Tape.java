package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * What the book-keeping strategy records during the forward pass: for every layer with trainable
 * parameters, the layer's input (or normalised input) and a zero leaf added to its output, whose
 * gradient after the backward pass is the per-sample output gradient.
 */
final class Tape {
    static final Tape NONE = new Tape(null, 0, 0);

    private final NDManager manager;
    final int slots;
    final int copies;
    private final List<Tap> taps = new ArrayList<>();

    Tape(NDManager manager, int slots, int copies) {
        this.manager = manager;
        this.slots = slots;
        this.copies = copies;
    }

    boolean recording() {
        return manager != null;
    }

    /** Adds a zero leaf that requires a gradient to {@code y}; returns y + leaf and the leaf. */
    NDArray[] withLeaf(NDArray y) {
        // One stored zero broadcast to y's shape (a stride-0 view): the leaf costs one element instead of
        // a tensor of y's size per layer, held all step (issue 12 §3). Its gradient is still y's full shape.
        NDArray zero = manager.zeros(new Shape(1), y.getDataType()).broadcast(y.getShape());
        zero.setRequiresGradient(true);
        // In place: the layers that call this (conv, linear, GroupNorm affine) produce y by ops whose
        // backward does not need y itself, so autograd allows y += leaf and one allocation is saved.
        return new NDArray[] {y.addi(zero), zero};
    }

    void add(Tap tap) {
        taps.add(tap);
    }

    List<Tap> taps() {
        return taps;
    }
}
