package org.dpsgd.noise;

import java.util.function.LongSupplier;
import org.dpsgd.sampling.AesCtrStream;

/**
 * The sampler of {@link ZigguratBlock} written out plainly, one word at a time from any word
 * supplier, straight from the construction in {@link ZigguratTables}' Javadoc and the tables'
 * fields: the reference the block's inline loops, its block ends and its vector path are compared
 * with bit for bit (its distribution is checked separately, in ZigguratTablesTest and
 * GaussianTailTest).
 */
final class ReferenceNormals {
    private static final ZigguratTables T = ZigguratTables.EXACT;
    private final LongSupplier words;

    ReferenceNormals(LongSupplier words) {
        this.words = words;
    }

    /**
     * v[from..to) plus call {@code call}'s secure noise under {@code key}, in double with no rounding: chunk c of the
     * range reads keystream (call, c), one word at a time, and each coordinate gets 0.5·std·(z1 + z2 + z3 + z4).
     * The reference the secure source's chunked, threaded and piecewise paths are compared with.
     */
    static double[] addSecureNoise(byte[] key, double[] v, int from, int to, double std, long call) {
        double[] out = v.clone();
        int n = to - from;
        for (int c = 0; (long) c * ChunkedGaussian.CHUNK < n; c++) {
            ReferenceNormals g = new ReferenceNormals(new AesCtrStream(key, call << 32 | c)::nextLong);
            int hi = Math.min(n, (c + 1) * ChunkedGaussian.CHUNK);
            for (int i = from + c * ChunkedGaussian.CHUNK; i < from + hi; i++) {
                out[i] = out[i] + 0.5 * std * (g.sample() + g.sample() + g.sample() + g.sample());
            }
        }
        return out;
    }

    double sample() {
        long w = words.getAsLong();
        int slot = (int) (w & 1023);
        long position = w >> 10; // bits 10..63, signed
        if (slot < T.rectangles) return position * Math.scalb(T.a[slot], -53);
        int column = (int) ((w >>> 10) & 1023); // bits 10..19
        long threshold = (w >>> 20) & ((1L << 43) - 1); // bits 20..62
        int piece = threshold < T.keep[column] ? column : T.alias[column];
        double x;
        if (piece == 0) {
            double r = T.a[0];
            while (true) {
                double e = -Math.log(1 - uniform()) / r;
                double d = -Math.log(1 - uniform());
                if (2 * d > e * e) {
                    x = r + e;
                    break;
                }
            }
        } else {
            while (true) {
                double px = T.a[piece] + uniform() * (T.a[piece - 1] - T.a[piece]);
                double py = T.h[piece] + uniform() * (T.h[piece + 1] - T.h[piece]);
                if (py < Math.exp(-0.5 * px * px)) {
                    x = px;
                    break;
                }
            }
        }
        return w < 0 ? -x : x; // bit 63
    }

    private double uniform() {
        return (words.getAsLong() >>> 11) * 0x1p-53;
    }
}
