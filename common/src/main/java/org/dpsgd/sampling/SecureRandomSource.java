package org.dpsgd.sampling;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import org.dpsgd.UserError;

/**
 * ChaCha20 keystream keyed with 32 bytes from the JDK's DRBG. The key lives only in this object:
 * it has no accessor, is not serialised, and a restored run gets a fresh key (see
 * {@link #exportState()}).
 */
public final class SecureRandomSource implements RandomSource {
    private final ChaChaStream stream;

    private SecureRandomSource(byte[] key) {
        this.stream = new ChaChaStream(key, 0);
    }

    /** A source keyed from {@code SecureRandom.getInstance("DRBG")}; refuses to run without it. */
    public static SecureRandomSource create() {
        byte[] key = freshKeyBytes();
        try {
            return new SecureRandomSource(key); // the cipher keeps its own copy
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
    }

    /** 32 key bytes from the DRBG (the caller owns and must not persist them). */
    public static byte[] freshKeyBytes() {
        byte[] bytes = new byte[32];
        drbg().nextBytes(bytes);
        return bytes;
    }

    /** The JDK's DRBG; refuses (never falls back to a weaker generator) where it is unavailable. */
    public static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            throw new UserError(
                    "the JDK's DRBG SecureRandom is unavailable; refusing to sample or add noise "
                            + "with a weaker generator (use a standard JDK 9+ or privacy.noise: fast-insecure for non-private tests)",
                    e);
        }
    }

    @Override
    public long nextLong() {
        return stream.nextLong();
    }

    @Override
    public boolean isSecure() {
        return true;
    }

    @Override
    public byte[] exportState() {
        return null;
    }

    @Override
    public void restoreState(byte[] state) {
        throw new IllegalStateException(
                "a secure random source has no restorable state: a resumed run re-keys from the DRBG");
    }

    @Override
    public String toString() {
        return "SecureRandomSource(ChaCha20, DRBG-keyed)";
    }
}
