package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.dpsgd.sampling.AesCtrStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ZigguratBlock} against the sampler it implements, written out plainly in
 * {@link ReferenceNormals} and reading the same words one at a time. Equality is bit for bit
 * (compared as raw long bits), on the AES keystream and on a synthetic stream that sends 30% of
 * words down the residual (wedges, cap, tail), so those paths and their crossing of block
 * boundaries are exercised thousands of times. (Until session 5 the reference was Commons RNG's
 * ziggurat, which the block then reproduced; the distribution's independent checks are in
 * ZigguratTablesTest and GaussianTailTest.)
 */
class ZigguratBlockTest {
    /** A deterministic word stream whose words are the same however it is read. */
    private static final class Synthetic implements ZigguratBlock.Words, LongSupplier {
        private final double edgeShare;
        private SplittableRandom r;
        long edgeWords;

        Synthetic(long seed, double edgeShare) {
            this.edgeShare = edgeShare;
            restart(seed);
        }

        @Override
        public long getAsLong() {
            long w = r.nextLong();
            // Slot 1021..1023: a residual slot (wedge, cap or tail), not a rectangle.
            if (r.nextDouble() < edgeShare) {
                w = residual(w, r);
                edgeWords++;
            }
            return w;
        }

        @Override
        public void next(long[] out, int off, int len) {
            for (int i = 0; i < len; i++) out[off + i] = getAsLong();
        }

        @Override
        public void restart(long streamId) {
            r = new SplittableRandom(streamId);
        }
    }

    /** w with its slot bits set to a random residual slot. */
    static long residual(long w, SplittableRandom r) {
        int n = ZigguratTables.EXACT.rectangles;
        return (w & -1024L) | (n + r.nextInt(1024 - n));
    }

    private static LongSupplier words(AesCtrStream s) {
        return s::nextLong;
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

    /**
     * Single normals, the sums of four (stored, added to floats, added to doubles, and added to
     * doubles then rounded to floats) in sub-ranges of random lengths, one stream.
     */
    private static void checkAgainstReference(ZigguratBlock block, LongSupplier sameWords, long seed) {
        ReferenceNormals g = new ReferenceNormals(sameWords);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 20_000; i++) assertSameBits(g.sample(), block.sample(), "normal " + i);
        double scale = 0.5 * (0.1 + r.nextDouble() * 3);
        double[] out = new double[60_000];
        float[] v = new float[60_000];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        double[] sum = new double[60_000];
        for (int i = 0; i < sum.length; i++) sum[i] = r.nextGaussian() * (1 + 0x1p-40);
        float[] rounded = new float[60_000];
        int at = 0;
        while (at < out.length) {
            int to = Math.min(out.length, at + r.nextInt(5000));
            int path = r.nextInt(4);
            if (path == 2) {
                // The double path: the same normals in the same order, added to a double with no rounding.
                double[] expected = new double[to - at];
                for (int i = at; i < to; i++)
                    expected[i - at] = sum[i] + scale * (g.sample() + g.sample() + g.sample() + g.sample());
                block.addSumsOfFour(sum, at, to, scale);
                for (int i = at; i < to; i++) assertSameBits(expected[i - at], sum[i], "double coordinate " + i);
            } else if (path == 3) {
                // The fused path: (float) (sum + noise), the sum only read, from a shifted place (d).
                double[] before = sum.clone();
                int d = Math.max(-at, Math.min(sum.length - to, r.nextInt(6001) - 3000));
                float[] expected = new float[to - at];
                for (int i = at; i < to; i++)
                    expected[i - at] =
                            (float) (sum[i + d] + scale * (g.sample() + g.sample() + g.sample() + g.sample()));
                block.addSumsOfFour(sum, d, rounded, at, to, scale);
                for (int i = at; i < to; i++)
                    assertEquals(
                            Float.floatToRawIntBits(expected[i - at]),
                            Float.floatToRawIntBits(rounded[i]),
                            "rounded coordinate " + i);
                assertTrue(Arrays.equals(before, sum), "the fused path only reads the sum");
            } else if (path == 0) {
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
    void aesNormalsAreTheReferenceBitForBit(long streamId) {
        byte[] key = key(streamId);
        checkAgainstReference(new ZigguratBlock(aes(key, streamId)), words(new AesCtrStream(key, streamId)), streamId);
    }

    @ParameterizedTest
    @ValueSource(longs = {1L, 2L, 3L})
    void residualPathsAreTheReferenceBitForBit(long seed) {
        Synthetic words = new Synthetic(seed, 0.3);
        checkAgainstReference(new ZigguratBlock(words), new Synthetic(seed, 0.3), seed);
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
        checkAgainstReference(reused, words(new AesCtrStream(key, 9L << 32 | 8)), 7);
    }

    /**
     * Every residual piece, one by one: half the words are residual words whose alias column (bits
     * 10..19) runs through all 1,024 columns with both outcomes of the alias threshold, so the tail,
     * every wedge and the cap are drawn, across block ends; the block's normals equal the
     * reference's bit for bit.
     */
    @ParameterizedTest
    @ValueSource(longs = {11, 12})
    void everyResidualPieceEqualsTheReference(long seed) {
        long[] src = new long[600_000];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < src.length; i++) {
            long w = r.nextLong();
            src[i] = i % 2 == 0 ? residual((w & ~(1023L << 10)) | (long) ((i / 2) % 1024) << 10, r) : w;
        }
        int[] at = {0};
        LongSupplier sameWords = () -> src[at[0]++];
        ZigguratBlock block = new ZigguratBlock(arrayWords(src), null);
        ReferenceNormals g = new ReferenceNormals(sameWords);
        int[] column = new int[1024];
        int tail = 0;
        while (at[0] < src.length - 10_000) {
            int before = at[0];
            double z = block.sample();
            assertSameBits(g.sample(), z, "normal from word " + before);
            if (((int) src[before] & 1023) >= ZigguratTables.EXACT.rectangles)
                column[(int) (src[before] >>> 10) & 1023]++;
            if (Math.abs(z) > ZigguratTables.EXACT.a[0]) tail++;
        }
        for (int c = 0; c < 1024; c++) assertTrue(column[c] > 20, "alias column " + c + ": " + column[c]);
        assertTrue(tail > 30, "tail draws: " + tail);
    }

    /**
     * Residual words on a block's last words: those draws read on into the next block (a refill in
     * the middle of a rejection loop) and must still give the reference's values.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 7})
    void residualDrawsThatCrossABlockEndEqualTheReference(int lastWords) {
        long[] src = new long[40 * ZigguratBlock.BLOCK];
        SplittableRandom r = new SplittableRandom(lastWords);
        for (int i = 0; i < src.length; i++) {
            long w = r.nextLong();
            boolean nearEnd = ZigguratBlock.BLOCK - i % ZigguratBlock.BLOCK <= lastWords;
            src[i] = nearEnd || r.nextInt(50) == 0 ? residual(w, r) : w;
        }
        int[] at = {0};
        LongSupplier sameWords = () -> src[at[0]++];
        ZigguratBlock block = new ZigguratBlock(arrayWords(src), null);
        ReferenceNormals g = new ReferenceNormals(sameWords);
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
