package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;
import org.dpsgd.sampling.AesCtrStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ZigguratBlock} against the sampler it claims to equal: Commons RNG's
 * {@code ZigguratSampler.NormalizedGaussian} reading the same words one at a time. Equality is bit
 * for bit (compared as raw long bits), on the AES keystream and on a synthetic stream that sends
 * 30% of words down Commons' edge and tail paths, so those paths and their crossing of block
 * boundaries are exercised thousands of times.
 */
class ZigguratBlockTest {
    /** A deterministic word stream whose words are the same however it is read. */
    private static final class Synthetic implements ZigguratBlock.Words, UniformRandomProvider {
        private final double edgeShare;
        private SplittableRandom r;
        long edgeWords;

        Synthetic(long seed, double edgeShare) {
            this.edgeShare = edgeShare;
            restart(seed);
        }

        @Override
        public long nextLong() {
            long w = r.nextLong();
            // Low byte 253..255: not Commons' fast path (its edge sampling, tail included, runs instead).
            if (r.nextDouble() < edgeShare) {
                w = (w & ~0xffL) | (253 + r.nextInt(3));
                edgeWords++;
            }
            return w;
        }

        @Override
        public void next(long[] out, int off, int len) {
            for (int i = 0; i < len; i++) out[off + i] = nextLong();
        }

        @Override
        public void restart(long streamId) {
            r = new SplittableRandom(streamId);
        }
    }

    private static ZigguratBlock.Words aes(byte[] key, long streamId) {
        AesCtrStream s = new AesCtrStream(key, streamId);
        return new ZigguratBlock.Words() {
            @Override
            public void next(long[] out, int off, int len) {
                s.nextLongs(out, off, len);
            }

            @Override
            public void restart(long id) {
                s.restart(id);
            }
        };
    }

    private static byte[] key(long seed) {
        byte[] key = new byte[32];
        new SplittableRandom(seed).nextBytes(key);
        return key;
    }

    private static void assertSameBits(double expected, double actual, String where) {
        assertEquals(
                Double.doubleToRawLongBits(expected),
                Double.doubleToRawLongBits(actual),
                where + ": " + expected + " vs " + actual);
    }

    /** Single normals, the sums of four (stored and added to floats) in sub-ranges of random lengths, one stream. */
    private static void checkAgainstCommons(ZigguratBlock block, UniformRandomProvider sameWords, long seed) {
        ZigguratSampler.NormalizedGaussian g = ZigguratSampler.NormalizedGaussian.of(sameWords);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 20_000; i++) assertSameBits(g.sample(), block.sample(), "normal " + i);
        double scale = 0.5 * (0.1 + r.nextDouble() * 3);
        double[] out = new double[60_000];
        float[] v = new float[60_000];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        int at = 0;
        while (at < out.length) {
            int to = Math.min(out.length, at + r.nextInt(5000));
            if (r.nextBoolean()) {
                float[] expected = new float[to - at];
                for (int i = at; i < to; i++)
                    expected[i - at] = (float) (v[i] + scale * (g.sample() + g.sample() + g.sample() + g.sample()));
                block.addSumsOfFour(v, at, to, scale);
                for (int i = at; i < to; i++)
                    assertEquals(
                            Float.floatToRawIntBits(expected[i - at]),
                            Float.floatToRawIntBits(v[i]),
                            "added coordinate " + i);
            } else {
                block.sumsOfFour(out, at, to, scale);
                for (int i = at; i < to; i++)
                    assertSameBits(
                            scale * (g.sample() + g.sample() + g.sample() + g.sample()),
                            out[i],
                            "stored coordinate " + i);
            }
            at = to;
        }
        for (int i = 0; i < 5000; i++) assertSameBits(g.sample(), block.sample(), "normal after sums " + i);
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, 5L << 32 | 2, -1L})
    void aesNormalsAreCommonsZigguratBitForBit(long streamId) {
        byte[] key = key(streamId);
        checkAgainstCommons(new ZigguratBlock(aes(key, streamId)), new AesCtrStream(key, streamId), streamId);
    }

    @ParameterizedTest
    @ValueSource(longs = {1L, 2L, 3L})
    void edgeAndTailPathsAreCommonsBitForBit(long seed) {
        Synthetic words = new Synthetic(seed, 0.3);
        checkAgainstCommons(new ZigguratBlock(words), new Synthetic(seed, 0.3), seed);
        assertTrue(words.edgeWords > 20_000, "edge words exercised: " + words.edgeWords);
    }

    /** A reused sampler, restarted on a new stream, draws what a new one on that stream draws. */
    @ParameterizedTest
    @ValueSource(ints = {0, 3, 2047, 2048, 9000})
    void restartedSamplerEqualsAFreshOne(int usedBefore) {
        byte[] key = key(4);
        ZigguratBlock reused = new ZigguratBlock(aes(key, 1));
        double[] sink = new double[usedBefore];
        reused.sumsOfFour(sink, 0, usedBefore, 1.0);
        reused.restart(9L << 32 | 8);
        checkAgainstCommons(reused, new AesCtrStream(key, 9L << 32 | 8), 7);
    }

    /**
     * Every alias entry, one by one: half the words are edge words and the words after them run
     * through all 256 low bytes with random high bits, so Commons' alias step picks every overhang
     * (convex, concave, the inflection layer) and the tail, thousands of times, across block ends;
     * the block's normals equal Commons' bit for bit.
     */
    @ParameterizedTest
    @ValueSource(longs = {11, 12})
    void everyAliasEntryEqualsCommons(long seed) {
        long[] src = new long[600_000];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < src.length; i++) {
            long w = r.nextLong();
            src[i] = i % 2 == 0 ? (w & ~0xffL) | (253 + r.nextInt(3)) : (w & ~0xffL) | ((i / 2) & 0xff);
        }
        int[] at = {0};
        UniformRandomProvider sameWords = () -> src[at[0]++];
        ZigguratBlock block = new ZigguratBlock(arrayWords(src), null);
        ZigguratSampler.NormalizedGaussian g = ZigguratSampler.NormalizedGaussian.of(sameWords);
        int[] aliasWord = new int[256];
        int tail = 0;
        while (at[0] < src.length - 10_000) {
            int before = at[0];
            double z = block.sample();
            assertSameBits(g.sample(), z, "normal from word " + before);
            // For coverage: the low byte of the alias word after each edge word, and tail draws
            // (beyond the last layer's edge, 3.636).
            if (((int) src[before] & 0xff) >= 253) aliasWord[(int) src[before + 1] & 0xff]++;
            if (Math.abs(z) > 3.6360066255009458) tail++;
        }
        for (int k = 0; k < 256; k++) assertTrue(aliasWord[k] > 20, "alias low byte " + k + ": " + aliasWord[k]);
        assertTrue(tail > 30, "tail draws: " + tail);
    }

    /**
     * Edge words on a block's last words: those draws read on into the next block (a refill in the
     * middle of Commons' edge sampling) and must still give Commons' values.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7})
    void edgeDrawsThatCrossABlockEndEqualCommons(int lastWords) {
        long[] src = new long[40 * ZigguratBlock.BLOCK];
        SplittableRandom r = new SplittableRandom(lastWords);
        for (int i = 0; i < src.length; i++) {
            long w = r.nextLong();
            boolean nearEnd = ZigguratBlock.BLOCK - i % ZigguratBlock.BLOCK <= lastWords;
            src[i] = nearEnd || r.nextInt(50) == 0 ? (w & ~0xffL) | (253 + r.nextInt(3)) : w;
        }
        int[] at = {0};
        UniformRandomProvider sameWords = () -> src[at[0]++];
        ZigguratBlock block = new ZigguratBlock(arrayWords(src), null);
        ZigguratSampler.NormalizedGaussian g = ZigguratSampler.NormalizedGaussian.of(sameWords);
        double[] out = new double[1000];
        while (at[0] < src.length - 5 * ZigguratBlock.BLOCK) {
            // Sums of four through the block loop, then single normals, as the noise draws them.
            block.sumsOfFour(out, 0, out.length, 0.5);
            for (int i = 0; i < out.length; i++)
                assertSameBits(0.5 * (g.sample() + g.sample() + g.sample() + g.sample()), out[i], "sum " + i);
            for (int i = 0; i < 100; i++) assertSameBits(g.sample(), block.sample(), "normal " + i);
        }
    }

    /** The words of src in order, from the start again on restart. */
    private static ZigguratBlock.Words arrayWords(long[] src) {
        return new ZigguratBlock.Words() {
            private int at;

            @Override
            public void next(long[] out, int off, int len) {
                System.arraycopy(src, at, out, off, len);
                at += len;
            }

            @Override
            public void restart(long streamId) {
                at = 0;
            }
        };
    }
}
