package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

/**
 * Words exactly on the sampler's two strict comparisons, which random words reach with probability
 * about 2⁻⁴³ and 2⁻⁵³ and so no statistical test sees: an alias threshold equal to {@code keep[c]}
 * (the column's own piece is kept only strictly below it; columns with {@code keep = 0} always
 * alias, and a non-strict test there would pick a piece that does not exist), and a wedge point
 * exactly on the curve (rejected: acceptance is strictly below exp(−x²/2)). Each case is checked
 * structurally (which piece, which try) and against {@link ReferenceNormals} bit for bit.
 */
class ZigguratBoundaryWordTest {
    private static final ZigguratTables T = ZigguratTables.EXACT;
    private static final int N = T.rectangles;

    /** A residual word: slot N (not a rectangle), alias column c, 43-bit threshold, sign bit 0. */
    private static long residualWord(int column, long threshold) {
        return (threshold << 20) | ((long) column << 10) | N;
    }

    /** A word whose uniform ((w >>> 11)·2⁻⁵³) is k·2⁻⁵³. */
    private static long uniformWord(long k) {
        return k << 11;
    }

    /** The first normal of ZigguratBlock over {@code words}, then seeded random words. */
    private static double blockSample(long[] first, long seed) {
        return new ZigguratBlock(words(first, seed), null).sample();
    }

    private static double referenceSample(long[] first, long seed) {
        ZigguratBlock.Words w = words(first, seed);
        long[] buf = new long[1];
        LongSupplier s = () -> {
            w.next(buf, 0, 1);
            return buf[0];
        };
        return new ReferenceNormals(s).sample();
    }

    /** {@code first}, then a seeded stream of random words. */
    private static ZigguratBlock.Words words(long[] first, long seed) {
        return new ZigguratBlock.Words() {
            private int at;
            private SplittableRandom r = new SplittableRandom(seed);

            @Override
            public void next(long[] out, int off, int len) {
                for (int i = 0; i < len; i++, at++) out[off + i] = at < first.length ? first[at] : r.nextLong();
            }

            @Override
            public void restart(long streamId) {
                at = 0;
                r = new SplittableRandom(seed);
            }
        };
    }

    /** Whether x lies in piece p's x-range: the tail beyond a[0], or [a[p], a[p−1]]. */
    private static boolean inPiece(double x, int p) {
        return p == 0 ? x >= T.a[0] : x >= T.a[p] && x <= T.a[p - 1];
    }

    @Test
    void aThresholdEqualToKeepTakesTheAlias() {
        int checked = 0;
        for (int c = 0; c < ZigguratTables.SLOTS; c++) {
            long keep = T.keep[c];
            int alias = T.alias[c];
            if (keep == 0 || keep >= (1L << 43) || alias == c) continue;
            for (long seed = 1; seed <= 3; seed++) {
                double atKeep = blockSample(new long[] {residualWord(c, keep)}, seed);
                double below = blockSample(new long[] {residualWord(c, keep - 1)}, seed);
                assertTrue(inPiece(atKeep, alias), "column " + c + ": threshold = keep must draw piece " + alias);
                assertTrue(inPiece(below, c), "column " + c + ": threshold = keep - 1 must draw piece " + c);
                assertEquals(
                        Double.doubleToRawLongBits(referenceSample(new long[] {residualWord(c, keep)}, seed)),
                        Double.doubleToRawLongBits(atKeep),
                        "column " + c);
            }
            checked++;
        }
        assertTrue(checked > 100, "columns with a proper alias split: " + checked);
    }

    @Test
    void columnsThatAlwaysAliasNeverPickTheirOwnIndex() {
        int checked = 0;
        for (int c = 0; c < ZigguratTables.SLOTS; c++) {
            if (T.keep[c] != 0) continue;
            double z = blockSample(new long[] {residualWord(c, 0)}, 5);
            assertTrue(inPiece(z, T.alias[c]), "column " + c + " (keep 0) must draw its alias " + T.alias[c]);
            checked++;
        }
        assertTrue(checked >= 2, "columns with keep = 0: " + checked);
    }

    @Test
    void aWedgePointExactlyOnTheCurveIsRejected() {
        SplittableRandom r = new SplittableRandom(17);
        int ties = 0;
        for (int c = 0; c < ZigguratTables.SLOTS && ties < 20; c++) {
            int p = T.keep[c] > 0 ? c : T.alias[c];
            if (p == 0) continue; // the tail has no box
            double left = T.a[p], width = T.a[p - 1] - T.a[p], bottom = T.h[p], height = T.h[p + 1] - T.h[p];
            long[] tie = findTie(left, width, bottom, height, r);
            if (tie == null) continue;
            double px = left + (tie[0] * 0x1p-53) * width;
            long[] first = {residualWord(c, 0), uniformWord(tie[0]), uniformWord(tie[1])};
            double z = blockSample(first, 100 + c);
            assertNotEquals(px, z, "column " + c + ": a point on the curve must be rejected, not returned");
            assertTrue(inPiece(z, p), "column " + c + ": the retry stays in piece " + p);
            assertEquals(
                    Double.doubleToRawLongBits(referenceSample(first, 100 + c)),
                    Double.doubleToRawLongBits(z),
                    "column " + c);
            ties++;
        }
        assertTrue(ties >= 5, "wedge ties found: " + ties);
    }

    /** (k1, k2) with bottom + (k2·2⁻⁵³)·height == f(left + (k1·2⁻⁵³)·width) exactly, or null. */
    private static long[] findTie(double left, double width, double bottom, double height, SplittableRandom r) {
        for (int attempt = 0; attempt < 200; attempt++) {
            long k1 = r.nextLong(1L << 53);
            double px = left + (k1 * 0x1p-53) * width;
            double target = ZigguratTables.f(px);
            long k0 = (long) Math.floor((target - bottom) / height * 0x1p53);
            for (long k2 = Math.max(0, k0 - 256); k2 < Math.min(1L << 53, k0 + 256); k2++) {
                if (bottom + (k2 * 0x1p-53) * height == target) return new long[] {k1, k2};
            }
        }
        return null;
    }
}
