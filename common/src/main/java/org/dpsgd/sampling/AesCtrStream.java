package org.dpsgd.sampling;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;
import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.commons.rng.UniformRandomProvider;
import org.dpsgd.UserError;

/**
 * AES-256 in counter mode as a keystream of 64-bit words: the generator inside NIST's CTR_DRBG
 * (SP 800-90A). Chosen for noise because the JDK runs AES/CTR on the CPU's AES instructions, about
 * ten times faster than ChaCha20 in plain Java, and noise needs 32 random bytes per parameter per
 * step. The 128-bit counter block is (streamId, block index), both big-endian, so distinct stream
 * ids under one key never share a block (the parallel noise chunks rely on this).
 */
public final class AesCtrStream implements UniformRandomProvider {
    private static final int BUFFER = 8192;
    private static final int WORDS = BUFFER / 8;

    private final Cipher cipher;
    private final SecretKeySpec key;
    private final byte[] zeros = new byte[BUFFER];
    private final byte[] buffer = new byte[BUFFER];
    // The keystream as words: one bulk conversion per refill is cheaper than a view read per word.
    private final LongBuffer view =
            ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer();
    private final long[] words = new long[WORDS];
    private int position = WORDS;

    /**
     * Keystream {@code streamId} under a 32-byte AES-256 {@code key}, from its first block.
     *
     * @throws IllegalArgumentException if the key is not 32 bytes
     * @throws IllegalStateException if the JDK has no AES/CTR (never a weaker fallback)
     */
    public AesCtrStream(byte[] key, long streamId) {
        JitWarmup.ensure();
        if (key.length != 32) throw new IllegalArgumentException("AES-256 key must be 32 bytes");
        try {
            cipher = Cipher.getInstance("AES/CTR/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new UserError("AES/CTR is unavailable in this JDK; refusing to fall back to a weaker generator", e);
        }
        this.key = new SecretKeySpec(key, "AES");
        restart(streamId);
    }

    /**
     * Makes this the stream {@code streamId} from its first block, exactly as a new
     * {@code AesCtrStream(key, streamId)}: buffered words are dropped and the counter restarts. It
     * saves the cipher look-up of a new instance (noise draws one stream per 16,384 coordinates).
     */
    public void restart(long streamId) {
        byte[] iv = new byte[16];
        for (int i = 0; i < 8; i++) iv[i] = (byte) (streamId >>> (56 - 8 * i));
        try {
            cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
        } catch (GeneralSecurityException e) {
            throw new UserError("AES/CTR is unavailable in this JDK; refusing to fall back to a weaker generator", e);
        }
        position = WORDS;
    }

    @Override
    public long nextLong() {
        if (position == WORDS) refill();
        return words[position++];
    }

    /**
     * The next {@code len} words of the keystream into {@code out[off..off+len)}: the same words, in
     * the same order, as {@code len} calls of {@link #nextLong()}, without a call per word. Whole
     * 8 KiB blocks are decoded straight into {@code out}; only a partly used block is kept.
     */
    public void nextLongs(long[] out, int off, int len) {
        if (off < 0 || len < 0 || off > out.length - len)
            throw new IndexOutOfBoundsException("bad range " + off + "+" + len + " of " + out.length);
        while (len > 0) {
            if (position == WORDS && len >= WORDS) {
                encrypt();
                view.get(0, out, off, WORDS);
                off += WORDS;
                len -= WORDS;
                continue;
            }
            if (position == WORDS) refill();
            int k = Math.min(len, WORDS - position);
            System.arraycopy(words, position, out, off, k);
            position += k;
            off += k;
            len -= k;
        }
    }

    private void refill() {
        encrypt();
        view.get(0, words);
        position = 0;
    }

    private void encrypt() {
        try {
            // Encrypting zeros yields the raw keystream; update() keeps the counter running across calls.
            int n = cipher.update(zeros, 0, BUFFER, buffer, 0);
            if (n != BUFFER) throw new IllegalStateException("AES/CTR returned " + n + " bytes instead of " + BUFFER);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR keystream failed", e);
        }
    }

    /**
     * HotSpot runs AES/CTR on the AES instructions only once C2 has compiled the JDK's counter-mode
     * loop, which takes about 20,000 calls: until then the keystream is ~20x slower (measured: 170 MB/s
     * against 4 GB/s), so a small model's first thousand steps paid ~4 ms of noise each. One burst of
     * tiny updates on a throwaway cipher (zero key, output discarded) triggers the compilation once per JVM.
     */
    private static final class JitWarmup {
        private static final int CALLS = 25_000;
        private static volatile boolean done;

        static void ensure() {
            if (done) return;
            synchronized (JitWarmup.class) {
                if (done) return;
                try {
                    Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
                    c.init(
                            Cipher.ENCRYPT_MODE,
                            new SecretKeySpec(new byte[32], "AES"),
                            new IvParameterSpec(new byte[16]));
                    byte[] in = new byte[64];
                    byte[] out = new byte[64];
                    for (int i = 0; i < CALLS; i++) c.update(in, 0, in.length, out, 0);
                } catch (GeneralSecurityException e) {
                    // The real constructor reports an unavailable AES/CTR with the reason.
                }
                done = true;
            }
        }
    }
}
