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
            byte[] counter =
                    ByteBuffer.allocate(16).putLong(streamId).putLong(block).array();
            ByteBuffer expected = ByteBuffer.wrap(ecb.doFinal(counter)).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(expected.getLong(0), stream.nextLong(), "block " + block + " word 0");
            assertEquals(expected.getLong(8), stream.nextLong(), "block " + block + " word 1");
        }
    }

    /**
     * Bulk reads are the word-by-word stream: reads of random lengths (some whole 8 KiB blocks,
     * some crossing them), interleaved with single words, against AES-ECB of the counter blocks.
     */
    @ParameterizedTest
    @ValueSource(longs = {3L, 11L << 32 | 5})
    void bulkReadsAreTheKeystreamInOrder(long streamId) throws Exception {
        byte[] key = new byte[32];
        new SplittableRandom(streamId + 1).nextBytes(key);
        long[] expected = ecbWords(key, streamId, 6000);
        AesCtrStream stream = new AesCtrStream(key, streamId);
        SplittableRandom r = new SplittableRandom(streamId);
        long[] got = new long[expected.length];
        int at = 0;
        while (at < got.length) {
            int len = Math.min(got.length - at, r.nextInt(4) == 0 ? 1024 * (1 + r.nextInt(2)) : r.nextInt(1500));
            if (r.nextBoolean() && len > 0) {
                got[at++] = stream.nextLong();
            } else {
                stream.nextLongs(got, at, len);
                at += len;
            }
        }
        for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], "word " + i);
    }

    /** A restarted stream is the new stream from its first block, whatever was read or buffered before. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 1023, 1024, 1500})
    void restartBeginsTheNewStreamAtItsFirstBlock(int readBefore) throws Exception {
        byte[] key = new byte[32];
        new SplittableRandom(9).nextBytes(key);
        AesCtrStream stream = new AesCtrStream(key, 1);
        for (int i = 0; i < readBefore; i++) stream.nextLong();
        stream.restart(77L << 32 | 4);
        long[] expected = ecbWords(key, 77L << 32 | 4, 2500);
        long[] got = new long[expected.length];
        stream.nextLongs(got, 0, got.length);
        for (int i = 0; i < got.length; i++) assertEquals(expected[i], got[i], "word " + i);
    }

    /** The first {@code n} words of stream {@code streamId}, from AES-ECB of (streamId, block) counter blocks. */
    private static long[] ecbWords(byte[] key, long streamId, int n) throws Exception {
        Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding");
        ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
        long[] words = new long[n];
        for (int block = 0; 2 * block < n; block++) {
            ByteBuffer out = ByteBuffer.wrap(ecb.doFinal(ByteBuffer.allocate(16)
                            .putLong(streamId)
                            .putLong(block)
                            .array()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            words[2 * block] = out.getLong(0);
            if (2 * block + 1 < n) words[2 * block + 1] = out.getLong(8);
        }
        return words;
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
