package org.dpsgd.plan;

/**
 * One device call of a step: for every slot (in {@link org.dpsgd.backend.BatchLayout#slot} order)
 * the example id and its position in the logical batch, both -1 for padding.
 */
public record DeviceCall(int[] exampleIds, int[] positions) {
    public DeviceCall {
        if (exampleIds.length != positions.length) throw new IllegalArgumentException("exampleIds and positions differ in length");
    }

    public int slots() { return exampleIds.length; }

    public boolean isPadding(int slot) { return exampleIds[slot] < 0; }

    public int realCount() {
        int n = 0;
        for (int id : exampleIds) if (id >= 0) n++;
        return n;
    }
}
