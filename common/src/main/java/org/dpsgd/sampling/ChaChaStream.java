package org.dpsgd.sampling;

import org.apache.commons.rng.UniformRandomProvider;

/**
 * One ChaCha20 keystream, read as 64-bit words. The 64-bit block index occupies the RFC's block
 * counter and first nonce word; the 64-bit {@code streamId} occupies the other two nonce words, so
 * distinct stream ids under one key never share a block (the parallel noise chunks rely on this).
 * Implements Commons RNG's {@link UniformRandomProvider} only so its samplers can consume the bits.
 */
public final class ChaChaStream implements UniformRandomProvider {
    private final int[] key;
    private final int streamLo;
    private final int streamHi;
    private final int[] block = new int[16];
    private long blockIndex;
    private int word = 16; // next unread word of block; 16 = block exhausted

    /** Keystream {@code streamId} under the 256-bit {@code key} (8 words, copied), starting at block 0. */
    public ChaChaStream(int[] key, long streamId) {
        if (key.length != 8) throw new IllegalArgumentException("ChaCha20 key must be 8 words");
        this.key = key.clone();
        this.streamLo = (int) streamId;
        this.streamHi = (int) (streamId >>> 32);
    }

    @Override
    public long nextLong() {
        if (word == 16) refill();
        long lo = block[word] & 0xffffffffL;
        long hi = block[word + 1] & 0xffffffffL;
        word += 2;
        return lo | hi << 32;
    }

    private void refill() {
        ChaCha20.block(key, (int) blockIndex, (int) (blockIndex >>> 32), streamLo, streamHi, block);
        blockIndex++;
        word = 0;
    }
}
