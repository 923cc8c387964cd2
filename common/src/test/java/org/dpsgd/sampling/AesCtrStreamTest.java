package org.dpsgd.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AesCtrStreamTest {

    /** Oracle: block j of stream s is AES-ECB(key, s || j), computed block by block without CTR mode. */
    @ParameterizedTest
    @ValueSource(longs = {0L, 1L, 7L << 32 | 3, -1L})
    void keystreamEqualsAesOfCounterBlocks(long streamId) throws Exception {
        byte[] key = new byte[32];
        new SplittableRandom(streamId).nextBytes(key);
        AesCtrStream stream = new AesCtrStream(key, streamId);
        Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding");
        ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
        // 2,100 blocks: crosses the internal 8 KiB buffer boundary several times.
        for (long block = 0; block < 2100; block++) {
            byte[] counter = ByteBuffer.allocate(16).putLong(streamId).putLong(block).array();
            ByteBuffer expected = ByteBuffer.wrap(ecb.doFinal(counter)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(expected.getLong(0), stream.nextLong(), "block " + block + " word 0");
            assertEquals(expected.getLong(8), stream.nextLong(), "block " + block + " word 1");
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, 1L << 32})
    void distinctStreamsDiffer(long streamId) {
        byte[] key = new byte[32];
        new SplittableRandom(42).nextBytes(key);
        AesCtrStream a = new AesCtrStream(key, streamId);
        AesCtrStream b = new AesCtrStream(key, streamId + 1);
        int equal = 0;
        for (int i = 0; i < 1000; i++) if (a.nextLong() == b.nextLong()) equal++;
        assertNotEquals(1000, equal);
        assertEquals(0, equal, "two streams under one key shared output words");
    }
}
