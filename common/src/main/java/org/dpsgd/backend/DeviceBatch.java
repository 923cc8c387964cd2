package org.dpsgd.backend;

import java.util.Arrays;
import org.dpsgd.model.Shape;

/**
 * Host buffers for one device call: {@code slots} sample slots in the order of
 * {@link BatchLayout#slot}. Each slot holds {@code multiplicity} augmented copies of one example
 * (De et al.'s augmentation multiplicity: their gradients are averaged before clipping). Padding
 * slots have mask 0 and example id -1, and must contribute exactly nothing. Buffers are reused
 * between calls; a backend must not keep references to them after a call returns.
 */
public final class DeviceBatch {
    private final Shape shape;
    private final int slots;
    private final int multiplicity;
    private final float[] inputs;
    private final int[] labels;
    private final float[] mask;
    private final long[] exampleIds;

    /**
     * Allocates the buffers of one device call: {@code slots} > 0 slots of {@code multiplicity} > 0 copies of a
     * {@code shape} input each, all zero (so every slot starts as padding).
     */
    public DeviceBatch(Shape shape, int slots, int multiplicity) {
        if (slots <= 0) throw new IllegalArgumentException("slots must be > 0");
        if (multiplicity <= 0) throw new IllegalArgumentException("augmentation multiplicity must be > 0");
        this.shape = shape;
        this.slots = slots;
        this.multiplicity = multiplicity;
        this.inputs = new float[Math.multiplyExact(Math.multiplyExact(slots, multiplicity), shape.size())];
        this.labels = new int[slots];
        this.mask = new float[slots];
        this.exampleIds = new long[slots];
        Arrays.fill(exampleIds, -1);
    }

    /** Per-sample input shape [C, H, W]. */
    public Shape shape() {
        return shape;
    }
    /** Number of sample slots, real and padding, in this call. */
    public int slots() {
        return slots;
    }
    /** Augmented copies per slot (K); a slot's K gradients are averaged before clipping. */
    public int multiplicity() {
        return multiplicity;
    }
    /** [slots, multiplicity, C, H, W] row-major. */
    public float[] inputs() {
        return inputs;
    }
    /** Class label per slot (0 for padding). */
    public int[] labels() {
        return labels;
    }
    /** 1 for a real example, 0 for padding. */
    public float[] mask() {
        return mask;
    }
    /** Dataset index of each slot's example, -1 for padding. */
    public long[] exampleIds() {
        return exampleIds;
    }

    /** Real (mask 1) slots in this call; a diagnostic, never a divisor of the private update. */
    public int realCount() {
        int n = 0;
        for (float m : mask) if (m != 0f) n++;
        return n;
    }

    /** Offset of copy {@code k} of slot {@code s} in {@link #inputs()}. */
    public int inputOffset(int slot, int copy) {
        return (slot * multiplicity + copy) * shape.size();
    }

    /** Marks every slot as padding and zeroes the inputs, so stale data cannot leak into a masked slot. */
    public void clear() {
        Arrays.fill(inputs, 0f);
        Arrays.fill(labels, 0);
        Arrays.fill(mask, 0f);
        Arrays.fill(exampleIds, -1);
    }
}
