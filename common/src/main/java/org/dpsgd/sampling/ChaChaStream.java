package org.dpsgd.sampling;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.rng.UniformRandomProvider;
import org.dpsgd.UserError;

/**
 * One ChaCha20 keystream (RFC 8439, the JDK's {@code javax.crypto} "ChaCha20" cipher encrypting
 * zeros), read as little-endian 64-bit words. The 64-bit block index occupies the RFC's 32-bit
 * block counter and the first nonce word; the 64-bit {@code streamId} occupies the other two nonce
 * words, so distinct stream ids under one key never share a block. Implements Commons RNG's
 * {@link UniformRandomProvider} only so its samplers can consume the bits.
 */
public final class ChaChaStream implements UniformRandomProvider {
    /** Keystream bytes per cipher call: 64 blocks. */
    private static final int BUFFER = 4096;

    private static final long BLOCKS_PER_NONCE = 1L << 32;

    private final SecretKeySpec key;
    private final long streamId;
    private final Cipher cipher;
    private final byte[] zeros = new byte[BUFFER];
    private final byte[] buffer = new byte[BUFFER];
    private final LongBuffer view =
            ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    private final long[] words = new long[BUFFER / 8];
    private int position;
    /** Words of {@link #words} filled by the last refill; position == available: refill. */
    private int available;
    /** The next block the cipher will produce. */
    private long blockIndex;

    /**
     * Keystream {@code streamId} under the 32-byte {@code key}, from block 0.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     * @throws IllegalStateException if the JDK has no ChaCha20 cipher (never a weaker fallback)
     */
    public ChaChaStream(byte[] key, long streamId) {
        this(key, streamId, 0);
    }

    /** From block {@code firstBlock} (tests: the RFC's vectors start at counter 1, and the 2^32-block boundary). */
    ChaChaStream(byte[] key, long streamId, long firstBlock) {
        if (key.length != 32) throw new IllegalArgumentException("ChaCha20 key must be 32 bytes, got " + key.length);
        this.key = new SecretKeySpec(key, "ChaCha20");
        this.streamId = streamId;
        try {
            this.cipher = Cipher.getInstance("ChaCha20");
        } catch (GeneralSecurityException e) {
            throw new UserError(
                    "this JDK has no ChaCha20 cipher (javax.crypto, JDK 11+); refusing to sample with a weaker generator",
                    e);
        }
        start(firstBlock);
    }

    /** Points the cipher at {@code block}: counter = its low 32 bits, nonce = its high 32 bits ‖ streamId. */
    private void start(long block) {
        byte[] nonce = ByteBuffer.allocate(12)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt((int) (block >>> 32))
                .putLong(streamId)
                .array();
        try {
            // A fresh nonce every 2^32 blocks, so encryption mode never reuses a (key, nonce) pair.
            cipher.init(Cipher.ENCRYPT_MODE, key, new ChaCha20ParameterSpec(nonce, (int) block));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot initialise ChaCha20: " + e.getMessage(), e);
        }
        blockIndex = block;
    }

    @Override
    public long nextLong() {
        if (position == available) refill();
        return words[position++];
    }

    private void refill() {
        // Never past the end of the 32-bit block counter: the cipher would refuse; the next nonce takes over.
        long left = BLOCKS_PER_NONCE - (blockIndex & (BLOCKS_PER_NONCE - 1));
        int bytes = (int) Math.min(BUFFER, 64 * left);
        try {
            cipher.update(zeros, 0, bytes, buffer, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20 keystream failed: " + e.getMessage(), e);
        }
        available = bytes / 8;
        view.clear();
        view.get(words, 0, available);
        position = 0;
        blockIndex += bytes / 64;
        if ((blockIndex & (BLOCKS_PER_NONCE - 1)) == 0) start(blockIndex);
    }
}
