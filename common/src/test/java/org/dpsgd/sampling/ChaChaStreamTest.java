package org.dpsgd.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The keystream that secure sampling reads: RFC 8439's vectors through the stream's mapping of
 * (block index, stream id) onto (counter, nonce), and the 2^32-block boundary where the nonce
 * takes over from the 32-bit counter.
 */
class ChaChaStreamTest {
    /** {@code bytes} of the stream as the RFC prints them (the stream's words are little-endian). */
    private static byte[] read(ChaChaStream s, int bytes) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < bytes / 8; i++) b.putLong(s.nextLong());
        return b.array();
    }

    /** The 12-byte nonce (n0, id) as the stream forms it: block index high word, then the stream id. */
    private static long streamId(byte[] nonce) {
        return ByteBuffer.wrap(nonce, 4, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static long highWord(byte[] nonce) {
        return ByteBuffer.wrap(nonce, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
    }

    @Test
    void rfc8439Section232BlockFunctionVector() {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) i;
        byte[] nonce = HexFormat.of().parseHex("000000090000004a00000000");
        byte[] expected = HexFormat.of()
                .parseHex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                        + "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
        ChaChaStream s = new ChaChaStream(key, streamId(nonce), highWord(nonce) << 32 | 1);
        assertArrayEquals(expected, read(s, 64));
    }

    @Test
    void rfc8439AppendixA1FirstTwoKeystreamVectors() {
        byte[] expected = HexFormat.of()
                .parseHex("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
                        + "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"
                        // Test vector #2: the same key and nonce, counter 1.
                        + "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
                        + "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f");
        assertArrayEquals(expected, read(new ChaChaStream(new byte[32], 0), 128));
    }

    /** Block b of stream id is the cipher at counter = low 32 bits of b, nonce = high 32 bits ‖ id, across refills. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void blocksFollowTheCounterAcrossRefills(long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] key = new byte[32];
        r.nextBytes(key);
        long id = r.nextLong();
        ChaChaStream s = new ChaChaStream(key, id);
        byte[] stream = read(s, 200 * 64); // past the 64-block refill
        byte[] nonce = ByteBuffer.allocate(12)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0)
                .putLong(id)
                .array();
        Cipher c = Cipher.getInstance("ChaCha20");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new ChaCha20ParameterSpec(nonce, 0));
        assertArrayEquals(c.doFinal(new byte[200 * 64]), stream);
    }

    /** After block 2^32 − 1 the counter would wrap: the stream goes on with nonce word 0 = 1 and counter 0. */
    @Test
    void theBlockIndexCarriesFromTheCounterIntoTheNonce() throws Exception {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) (3 * i + 1);
        long id = 0x0000000700000005L;
        ChaChaStream s = new ChaChaStream(key, id, (1L << 32) - 2);
        byte[] got = read(s, 4 * 64);
        Cipher before = Cipher.getInstance("ChaCha20");
        before.init(
                Cipher.ENCRYPT_MODE,
                new SecretKeySpec(key, "ChaCha20"),
                new ChaCha20ParameterSpec(
                        ByteBuffer.allocate(12)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .putInt(0)
                                .putLong(id)
                                .array(),
                        -2));
        Cipher after = Cipher.getInstance("ChaCha20");
        after.init(
                Cipher.ENCRYPT_MODE,
                new SecretKeySpec(key, "ChaCha20"),
                new ChaCha20ParameterSpec(
                        ByteBuffer.allocate(12)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .putInt(1)
                                .putLong(id)
                                .array(),
                        0));
        byte[] expected = new byte[4 * 64];
        System.arraycopy(before.doFinal(new byte[128]), 0, expected, 0, 128);
        System.arraycopy(after.doFinal(new byte[128]), 0, expected, 128, 128);
        assertArrayEquals(expected, got);
    }

    @Test
    void distinctStreamIdsGiveDistinctStreams() {
        byte[] k = new byte[32];
        assertNotEquals(new ChaChaStream(k, 1).nextLong(), new ChaChaStream(k, 2).nextLong());
        assertNotEquals(new ChaChaStream(k, 1L << 32).nextLong(), new ChaChaStream(k, 1).nextLong());
    }

    @Test
    void keysMustBe32Bytes() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ChaChaStream(new byte[16], 0));
        assertEquals("ChaCha20 key must be 32 bytes, got 16", e.getMessage());
    }
}
