package org.dpsgd.data;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.dpsgd.UserError;
import org.dpsgd.sampling.SecureRandomSource;

/**
 * The seed of each augmented copy (crop offset, flip), from (step, position in the logical batch,
 * copy). Keyed by position so a batch's augmentation does not depend on the layout or the thread
 * count.
 *
 * <p>In a private run the key must be secret. Removing one example shifts every later example of its
 * step to the next position down, and with it that example's crop and flip: with a public key those
 * shifted augmentations are a known function of the data, so ‖S(D) − S(D')‖ is not bounded by C
 * (an adversary who builds the other examples could read example i's presence from their changed
 * crops). With a secret key the copies' seeds are pseudorandom and identically distributed at every
 * position, so the other examples' augmented copies have the same joint law with and without i and
 * the difference is i's own clipped term, as docs/core.md assumes. {@link #secret()} is that key
 * (AES-256 from the DRBG, never saved); {@link #seeded(long)} is the config seed, for reproducible
 * runs without a privacy claim (their ε does not hold anyway: their sampling is seeded too).
 */
public abstract class AugmentationSeeds {
    private AugmentationSeeds() {}

    /** Seeds from the public config seed: reproducible, not for a private claim. */
    public static AugmentationSeeds seeded(long seed) {
        return new Seeded(seed);
    }

    /** Seeds from a fresh AES-256 key drawn from the JDK's DRBG, kept only in this object. */
    public static AugmentationSeeds secret() {
        byte[] key = SecureRandomSource.freshKeyBytes();
        try {
            return new Keyed(key);
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
    }

    /** Seeds under a given 32-byte AES key (tests: checks the block layout against an independent AES). */
    static AugmentationSeeds keyed(byte[] key) {
        return new Keyed(key);
    }

    /** True when the seeds come from a secret key (a private run's ε may rely on them). */
    public abstract boolean isSecret();

    /**
     * out[s·copies + c] = the seed of copy c of the example at {@code positions[s]} of logical step
     * {@code step}, for every slot s whose position is ≥ 0 (padding slots are left as they are).
     */
    abstract void seeds(long step, int[] positions, int copies, long[] out);

    private static final class Seeded extends AugmentationSeeds {
        private final long seed;

        Seeded(long seed) {
            this.seed = seed;
        }

        @Override
        public boolean isSecret() {
            return false;
        }

        @Override
        void seeds(long step, int[] positions, int copies, long[] out) {
            for (int s = 0; s < positions.length; s++) {
                if (positions[s] < 0) continue;
                for (int c = 0; c < copies; c++) out[s * copies + c] = BatchAssembler.mix(seed, step, positions[s], c);
            }
        }

        @Override
        public String toString() {
            return "AugmentationSeeds(seeded)";
        }
    }

    /**
     * AES-256 of the 16-byte block (step: 8 bytes, position: 6 bytes, copy: 2 bytes, big-endian), first
     * 8 bytes big-endian: a pseudorandom function of distinct blocks, one block per copy.
     */
    private static final class Keyed extends AugmentationSeeds {
        private final Cipher cipher;

        Keyed(byte[] key) {
            if (key.length != 32) throw new IllegalArgumentException("AES-256 key must be 32 bytes");
            try {
                cipher = Cipher.getInstance("AES/ECB/NoPadding");
                cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
            } catch (GeneralSecurityException e) {
                throw new UserError(
                        "AES is unavailable in this JDK; refusing to augment a private run with a public seed", e);
            }
        }

        @Override
        public boolean isSecret() {
            return true;
        }

        @Override
        synchronized void seeds(long step, int[] positions, int copies, long[] out) {
            if (copies < 1 || copies > 0xFFFF) throw new IllegalArgumentException("copies must be in [1, 65535]");
            byte[] blocks = new byte[16 * positions.length * copies];
            for (int s = 0; s < positions.length; s++) {
                for (int c = 0; c < copies; c++) block(blocks, 16 * (s * copies + c), step, positions[s], c);
            }
            byte[] enc;
            try {
                enc = cipher.doFinal(blocks);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES failed", e);
            }
            for (int s = 0; s < positions.length; s++) {
                if (positions[s] < 0) continue;
                for (int c = 0; c < copies; c++) {
                    int at = 16 * (s * copies + c);
                    long v = 0;
                    for (int b = 0; b < 8; b++) v = (v << 8) | (enc[at + b] & 0xFF);
                    out[s * copies + c] = v;
                }
            }
        }

        static void block(byte[] dst, int at, long step, long position, int copy) {
            for (int b = 0; b < 8; b++) dst[at + b] = (byte) (step >>> (56 - 8 * b));
            for (int b = 0; b < 6; b++) dst[at + 8 + b] = (byte) (position >>> (40 - 8 * b));
            dst[at + 14] = (byte) (copy >>> 8);
            dst[at + 15] = (byte) copy;
        }

        @Override
        public String toString() {
            return "AugmentationSeeds(secret AES-256 key)";
        }
    }
}
