package org.dpsgd.plan;

/**
 * One device call of a step: for every slot (in {@link org.dpsgd.backend.BatchLayout#slot} order)
 * the example id and its position in the logical batch, both -1 for padding.
 */
public record DeviceCall(int[] exampleIds, int[] positions) {
    public DeviceCall {
        if (exampleIds.length != positions.length)
            throw new IllegalArgumentException("exampleIds and positions differ in length");
    }

    /** Slots in this call, real and padding. */
    public int slots() {
        return exampleIds.length;
    }

    /** True when {@code slot} holds no example (mask 0, contributes nothing). */
    public boolean isPadding(int slot) {
        return exampleIds[slot] < 0;
    }

    /** Slots holding a sampled example. */
    public int realCount() {
        int n = 0;
        for (int id : exampleIds) if (id >= 0) n++;
        return n;
    }
}
