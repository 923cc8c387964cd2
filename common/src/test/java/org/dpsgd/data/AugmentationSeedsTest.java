package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The copy seeds of {@link AugmentationSeeds}: the public seed's mix, and the secret key's AES blocks. */
class AugmentationSeedsTest {
    @Test
    void seededSeedsAreThePublicMix() {
        AugmentationSeeds s = AugmentationSeeds.seeded(42);
        assertFalse(s.isSecret());
        int[] positions = {0, 5, -1, 9};
        long[] out = new long[positions.length * 3];
        s.seeds(7, positions, 3, out);
        for (int i = 0; i < positions.length; i++)
            for (int c = 0; c < 3; c++)
                assertEquals(positions[i] < 0 ? 0 : BatchAssembler.mix(42, 7, positions[i], c), out[i * 3 + c]);
    }

    /** Each seed is the first 8 bytes of AES-256 over (step, position, copy), written here with a ByteBuffer. */
    @ParameterizedTest
    @ValueSource(longs = {0, 1, 123_456_789_012L})
    void secretSeedsAreAesOfStepPositionAndCopy(long step) throws Exception {
        byte[] key = new byte[32];
        new SplittableRandom(step).nextBytes(key);
        AugmentationSeeds s = AugmentationSeeds.keyed(key);
        assertTrue(s.isSecret());
        int[] positions = {3, -1, 0, 70_000, Integer.MAX_VALUE};
        int copies = 2;
        long[] out = new long[positions.length * copies];
        s.seeds(step, positions, copies, out);
        Cipher aes = Cipher.getInstance("AES/ECB/NoPadding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
        for (int i = 0; i < positions.length; i++) {
            for (int c = 0; c < copies; c++) {
                if (positions[i] < 0) {
                    assertEquals(0, out[i * copies + c], "padding left alone");
                    continue;
                }
                ByteBuffer block = ByteBuffer.allocate(16).putLong(step);
                block.putShort((short) ((long) positions[i] >>> 32))
                        .putInt(positions[i])
                        .putShort((short) c);
                long expected = ByteBuffer.wrap(aes.doFinal(block.array())).getLong();
                assertEquals(expected, out[i * copies + c], "position " + positions[i] + " copy " + c);
            }
        }
    }

    @Test
    void secretKeysAreFreshAndSeedsDistinct() {
        int[] positions = new int[500];
        for (int i = 0; i < positions.length; i++) positions[i] = i;
        long[] a = new long[positions.length * 2], b = new long[positions.length * 2];
        AugmentationSeeds.secret().seeds(3, positions, 2, a);
        AugmentationSeeds.secret().seeds(3, positions, 2, b);
        Set<Long> seen = new HashSet<>();
        for (long v : a) seen.add(v);
        assertEquals(a.length, seen.size(), "distinct blocks give distinct seeds");
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b), "each run draws its own key");
    }
}
