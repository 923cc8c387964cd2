package org.dpsgd.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HexFormat;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ChaCha20Test {
    private static byte[] serialize(int[] words) {
        byte[] out = new byte[64];
        for (int i = 0; i < 16; i++) for (int b = 0; b < 4; b++) out[4 * i + b] = (byte) (words[i] >>> (8 * b));
        return out;
    }

    private static byte[] block(byte[] key, int counter, byte[] nonce) {
        int[] out = new int[16];
        ChaCha20.block(
                ChaCha20.keyWords(key),
                counter,
                ChaCha20.littleEndianWord(nonce, 0),
                ChaCha20.littleEndianWord(nonce, 4),
                ChaCha20.littleEndianWord(nonce, 8),
                out);
        return serialize(out);
    }

    @Test
    void rfc8439Section232BlockFunctionVector() {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) i;
        byte[] nonce = HexFormat.of().parseHex("000000090000004a00000000");
        byte[] expected = HexFormat.of()
                .parseHex("10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
                        + "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
        assertArrayEquals(expected, block(key, 1, nonce));
    }

    @Test
    void rfc8439AppendixA1FirstKeystreamVector() {
        byte[] expected = HexFormat.of()
                .parseHex("76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
                        + "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
        assertArrayEquals(expected, block(new byte[32], 0, new byte[12]));
    }

    /** The JDK's own ChaCha20 cipher (encrypting zeros yields the keystream) is an independent reference. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void matchesTheJdkCipherOnRandomKeysNoncesAndCounters(long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] key = new byte[32], nonce = new byte[12];
        r.nextBytes(key);
        r.nextBytes(nonce);
        int counter = r.nextInt(1 << 30);
        Cipher c = Cipher.getInstance("ChaCha20");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new ChaCha20ParameterSpec(nonce, counter));
        byte[] stream = c.doFinal(new byte[3 * 64]);
        for (int b = 0; b < 3; b++) {
            byte[] expected = java.util.Arrays.copyOfRange(stream, 64 * b, 64 * (b + 1));
            assertArrayEquals(expected, block(key, counter + b, nonce), "block " + b);
        }
    }

    @Test
    void streamReadsBlocksInCounterOrderAsLittleEndianLongs() {
        byte[] key = new byte[32];
        for (int i = 0; i < 32; i++) key[i] = (byte) (3 * i + 1);
        int[] k = ChaCha20.keyWords(key);
        ChaChaStream s = new ChaChaStream(k, 0x0000000700000005L);
        int[] out = new int[16];
        for (int b = 0; b < 2; b++) {
            ChaCha20.block(k, b, 0, 5, 7, out);
            for (int w = 0; w < 16; w += 2) {
                long expected = (out[w] & 0xffffffffL) | (long) out[w + 1] << 32;
                org.junit.jupiter.api.Assertions.assertEquals(expected, s.nextLong());
            }
        }
    }

    @Test
    void distinctStreamIdsGiveDistinctStreams() {
        int[] k = ChaCha20.keyWords(new byte[32]);
        assertNotEquals(new ChaChaStream(k, 1).nextLong(), new ChaChaStream(k, 2).nextLong());
        assertNotEquals(new ChaChaStream(k, 1L << 32).nextLong(), new ChaChaStream(k, 1).nextLong());
    }
}
