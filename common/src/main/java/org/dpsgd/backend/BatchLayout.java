package org.dpsgd.backend;

/**
 * Static shape of one device call: {@code replicas} replicas each run {@code accumulation}
 * micro-batches of {@code microBatchSize} slots. A call therefore holds
 * {@link #slotsPerCall()} slots, some of which may be masked padding.
 */
public record BatchLayout(int microBatchSize, int accumulation, int replicas) {
    public BatchLayout {
        if (microBatchSize <= 0)
            throw new IllegalArgumentException("micro-batch size must be > 0, got " + microBatchSize);
        if (accumulation <= 0)
            throw new IllegalArgumentException("accumulation count must be > 0, got " + accumulation);
        if (replicas <= 0) throw new IllegalArgumentException("replicas must be > 0, got " + replicas);
    }

    /** One micro-batch of {@code microBatchSize} slots per call: no accumulation, one replica. */
    public static BatchLayout of(int microBatchSize) {
        return new BatchLayout(microBatchSize, 1, 1);
    }

    /** Slots in one device call: microBatchSize · accumulation · replicas (ArithmeticException on int overflow). */
    public int slotsPerCall() {
        return Math.multiplyExact(Math.multiplyExact(microBatchSize, accumulation), replicas);
    }

    /** Slot index of (replica, accumulation step, position in micro-batch); replica-major. */
    public int slot(int replica, int step, int position) {
        return (replica * accumulation + step) * microBatchSize + position;
    }
}
