package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.commons.statistics.distribution.NormalDistribution;
import org.dpsgd.sampling.AesCtrStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ziggurat's normals against the exact normal CDF (Commons Statistics, erfc to about 1 ulp) over
 * fine bins: 2^26 single normals from AES keystreams (fixed key: the same numbers every run), bins
 * of width 1/32 over [-6, 6] plus the two open ends, Pearson's chi-square against df + 7·√(2·df)
 * (p ≈ 1e-10 under the null, so a correct sampler never fails), and the largest CDF gap at the bin
 * edges (Kolmogorov–Smirnov on the bins) against 1.95/√n (p ≈ 0.001). A tail off by a little (draws
 * beyond a_0 moved out by 0.05) fails the chi-square; so does a wedge shifted by one layer. And each
 * residual piece's acceptance region is checked word by word against the density in 70 digits.
 */
class ZigguratDistributionTest {
    private static final int N = 1 << 26;
    private static final double WIDTH = 1.0 / 32;
    private static final int INNER = (int) (12 / WIDTH); // [-6, 6)
    private static final NormalDistribution EXACT = NormalDistribution.of(0, 1);
    private static double[] draws;

    @BeforeAll
    static void draw() {
        byte[] key = new byte[32];
        new SplittableRandom(77).nextBytes(key);
        int streams = 64;
        draws = new double[N];
        IntStream.range(0, streams).parallel().forEach(s -> {
            AesCtrStream aes = new AesCtrStream(key, (long) s << 32 | 5);
            ZigguratBlock block = new ZigguratBlock(
                    new ZigguratBlock.Words() {
                        @Override
                        public void next(long[] out, int off, int len) {
                            aes.nextLongs(out, off, len);
                        }

                        @Override
                        public void restart(long id) {
                            aes.restart(id);
                        }
                    },
                    null);
            for (int i = s * (N / streams); i < (s + 1) * (N / streams); i++) draws[i] = block.sample();
        });
    }

    /** Counts per bin: 0 = below -6, 1..INNER = [-6 + (b-1)/32, ...), INNER + 1 = at or above 6. */
    private static long[] bins(java.util.function.DoubleUnaryOperator change) {
        long[] c = new long[INNER + 2];
        for (double z0 : draws) {
            double z = change.applyAsDouble(z0);
            int b = z < -6 ? 0 : z >= 6 ? INNER + 1 : 1 + (int) Math.floor((z + 6) / WIDTH);
            c[Math.min(b, INNER)]++;
        }
        return c;
    }

    private static double expected(int b) {
        if (b == 0) return EXACT.cumulativeProbability(-6);
        if (b == INNER + 1) return EXACT.survivalProbability(6);
        double lo = -6 + (b - 1) * WIDTH, hi = lo + WIDTH;
        // The smaller tail on each side, to keep the difference accurate.
        return hi <= 0
                ? EXACT.cumulativeProbability(hi) - EXACT.cumulativeProbability(lo)
                : EXACT.survivalProbability(lo) - EXACT.survivalProbability(hi);
    }

    private static double chiSquare(long[] c) {
        double chi = 0;
        for (int b = 0; b < c.length; b++) {
            double e = N * expected(b);
            chi += (c[b] - e) * (c[b] - e) / e;
        }
        return chi;
    }

    private static double limit() {
        int df = INNER + 1;
        return df + 7 * Math.sqrt(2.0 * df);
    }

    @Test
    void chiSquareOverFineBinsMatchesTheExactCdf() {
        long[] c = bins(z -> z);
        double chi = chiSquare(c);
        assertTrue(chi < limit(), "chi-square " + chi + " over " + (INNER + 1) + " df, limit " + limit());
        double cum = 0, gap = 0;
        long seen = 0;
        for (int b = 0; b <= INNER; b++) {
            seen += c[b];
            cum += expected(b);
            gap = Math.max(gap, Math.abs(seen / (double) N - cum));
        }
        assertTrue(gap < 1.95 / Math.sqrt(N), "largest CDF gap " + gap);
        System.out.println("ziggurat chi-square " + chi + " (df " + (INNER + 1) + "), largest CDF gap " + gap);
    }

    /** A tail off by a little fails: every draw beyond a_0 (5.7e-5 of them) moved out by 0.05. */
    @Test
    void aTailOffByALittleFails() {
        double a0 = ZigguratTables.EXACT.a[0];
        double chi = chiSquare(bins(z -> Math.abs(z) > a0 ? z + Math.copySign(0.05, z) : z));
        assertTrue(chi > limit(), "the moved tail went unseen: chi-square " + chi);
    }

    /** A wrong wedge fails: the draws of one layer's wedge region (x in [a_500, a_499]) moved to the next. */
    @Test
    void aWrongWedgeFails() {
        ZigguratTables t = ZigguratTables.EXACT;
        double lo = t.a[500], hi = t.a[499], shift = hi - lo;
        double chi = chiSquare(bins(z -> Math.abs(z) >= lo && Math.abs(z) < hi && z > 0 ? z + 5 * shift : z));
        assertTrue(chi > limit(), "the moved wedge went unseen: chi-square " + chi);
    }

    /** Words that pick residual piece p through the alias table: the column p if it keeps p, else one aliasing to it. */
    private static long pieceWord(int p, long signBit) {
        ZigguratTables t = ZigguratTables.EXACT;
        long slot = t.rectangles; // a residual slot
        for (int c = 0; c < ZigguratTables.SLOTS; c++) {
            if (c == p && t.keep[c] > 0) return signBit | slot | (long) c << 10; // threshold 0 keeps c
            if (t.alias[c] == p && t.keep[c] < 1L << 43)
                return signBit | slot | (long) c << 10 | ((1L << 43) - 1) << 20; // top threshold: the alias
        }
        throw new AssertionError("no column gives piece " + p);
    }

    private static long uniformWord(double u) {
        return Math.round(u * 0x1p53) << 11;
    }

    /**
     * Draws from a fixed word sequence; returns the normal and the words it used. Both sides throw
     * when they run out (the block after its first block, whose rest is zeros; the reference past the
     * given words), so a draw that never accepts fails instead of looping forever.
     */
    private static double[] sampleFrom(long... words) {
        long[] src = java.util.Arrays.copyOf(words, ZigguratBlock.BLOCK);
        int[] used = {0};
        boolean[] read = {false};
        ZigguratBlock block = new ZigguratBlock(
                new ZigguratBlock.Words() {
                    @Override
                    public void next(long[] out, int off, int len) {
                        if (read[0] || len > src.length)
                            throw new AssertionError("the sampler ran past the " + words.length + " words given");
                        read[0] = true;
                        System.arraycopy(src, 0, out, off, len);
                    }

                    @Override
                    public void restart(long id) {}
                },
                null);
        double z = block.sample();
        ReferenceNormals ref = new ReferenceNormals(() -> words[used[0]++]);
        assertEquals(Double.doubleToRawLongBits(ref.sample()), Double.doubleToRawLongBits(z), "block vs reference");
        return new double[] {z, used[0]};
    }

    /**
     * Every wedge and the cap, word by word: a point at the middle of piece p's box with a height just
     * under the curve (f computed in 70 digits, 1e-9 below) is returned after 3 words; just over it,
     * it is rejected and the next point drawn (5 words). The tail: accepted iff -2·ln(u2) > e².
     */
    @Test
    void everyPiecesAcceptanceRegionFollowsTheExactDensity() {
        ZigguratTables t = ZigguratTables.EXACT;
        for (int p = 1; p <= t.rectangles; p++) {
            double x = t.a[p] + 0.5 * (t.a[p - 1] - t.a[p]);
            double fx = ZigguratTableGenerator.f(new BigDecimal(x)).doubleValue();
            double height = t.h[p + 1] - t.h[p];
            long below = uniformWord((fx * (1 - 1e-9) - t.h[p]) / height);
            long above = uniformWord((fx * (1 + 1e-9) - t.h[p]) / height);
            double[] in = sampleFrom(pieceWord(p, Long.MIN_VALUE), uniformWord(0.5), below);
            assertEquals(-x, in[0], "piece " + p + ", under the curve");
            assertEquals(3, in[1], "piece " + p + ": words");
            double[] out = sampleFrom(pieceWord(p, 0), uniformWord(0.5), above, uniformWord(0.5), below);
            assertEquals(x, out[0], "piece " + p + ", over then under the curve");
            assertEquals(5, out[1], "piece " + p + ": words");
        }
        double r = t.a[0], e = Math.log(2) / r; // u1 = 1/2
        long accept = uniformWord(1 - Math.exp(-0.6 * e * e)), reject = uniformWord(1 - Math.exp(-0.4 * e * e));
        double[] tail = sampleFrom(pieceWord(0, 0), uniformWord(0.5), accept);
        assertEquals(r + e, tail[0], 1e-15, "tail, accepted");
        assertEquals(3, tail[1]);
        double[] twice = sampleFrom(pieceWord(0, Long.MIN_VALUE), uniformWord(0.5), reject, uniformWord(0.5), accept);
        assertEquals(-(r + e), twice[0], 1e-15, "tail, rejected then accepted");
        assertEquals(5, twice[1]);
    }
}
