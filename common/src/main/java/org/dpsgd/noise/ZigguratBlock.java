package org.dpsgd.noise;

import java.util.SplittableRandom;
import org.apache.commons.rng.UniformRandomProvider;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;

/**
 * Standard normals read from an AES-CTR keystream in blocks of words: bit for bit the normals that
 * Commons RNG's {@code ZigguratSampler.NormalizedGaussian} (McFarland's modified ziggurat, 2016)
 * draws from the same word stream, only cheaper. Its common case, taken by about 98.8% of draws,
 * is one word, a table look-up and a multiply; here that case runs inline over an array of words
 * (no call, no refill check per word), four normals at a time, and every other case (the edge and
 * tail of the ziggurat) is handed to Commons' own sampler reading the same words. So the
 * distribution is Commons' (checked independently in {@code GaussianTailTest}) and the values are
 * Commons' (checked bit for bit in {@code ZigguratBlockTest}).
 *
 * <p>The edge (1.2% of words) runs inline too, over the same array ({@link #edge}): Commons'
 * {@code edgeSample} step for step, on Commons' own tables ({@link CommonsZigguratTables}), for
 * the overhangs of layers 1..255, 97% of edge cases. The tail beyond the last layer, the
 * inflection layer and any case that would read past the block's end are handed to Commons'
 * sampler from the edge word on, so every case gives Commons' value. Before it is used, the
 * inline edge is checked against Commons on a seeded stream rich in edge words; if that or
 * reading the tables fails, all edge cases go to Commons (same values, slower).
 *
 * <p>With a {@link FastPathProducts} kernel (the Vector API's gathers, {@link SamplerPath}), the
 * fast-path products of each block are computed in one SIMD pass and the loop over coordinates only
 * sums four of them; a NaN sum sends the coordinate down the same case-by-case path as without.
 */
final class ZigguratBlock implements UniformRandomProvider {
    // Words per keystream read: a multiple of AesCtrStream's 1,024-word block, so reads decode
    // straight into this array, and 16 KiB, so it stays in the L1 cache.
    static final int BLOCK = 2048;
    // Commons' ziggurat returns X[j]·w for a word w whose low byte j is below I_MAX (its fast path).
    private static final int I_MAX = 253;
    private static final double[] X = layerTable();
    // Commons' edge tables (null when unreadable; then INLINE_EDGE is false and they are never read).
    private static final double[] EX = CommonsZigguratTables.X;
    private static final double[] EY = CommonsZigguratTables.Y;
    private static final long[] IPMF = CommonsZigguratTables.IPMF;
    private static final byte[] MAP = CommonsZigguratTables.MAP;
    private static final int J_INFLECTION = CommonsZigguratTables.J_INFLECTION;
    private static final long CONVEX_E_MAX = CommonsZigguratTables.CONVEX_E_MAX;
    private static final long CONCAVE_E_MAX = CommonsZigguratTables.CONCAVE_E_MAX;
    /** Whether edge cases run inline in this JVM: the tables were read and reproduce Commons. */
    static final boolean INLINE_EDGE = CommonsZigguratTables.AVAILABLE && inlineEdgeReproducesCommons();

    /** Where the words come from: an AES-CTR keystream in production, any word stream in tests. */
    interface Words {
        /** The next len words into out[off..off+len). */
        void next(long[] out, int off, int len);

        /** Starts over on stream {@code streamId}, as a new source of that stream would. */
        void restart(long streamId);
    }

    private final Words stream;
    private final long[] words = new long[BLOCK];
    private int next = BLOCK;
    private final ZigguratSampler.NormalizedGaussian commons = ZigguratSampler.NormalizedGaussian.of(this);
    // The vector path: a kernel, the products of the current block, and whether they are current.
    private final FastPathProducts kernel;
    private final double[] products;
    private boolean productsCurrent;
    // False: every edge case through Commons' sampler (tests compare the two ways).
    private final boolean inlineEdge;

    /** Normals from {@code stream} on the path chosen for this JVM ({@link SamplerPath}). */
    ZigguratBlock(Words stream) {
        this(stream, SamplerPath.kernel());
    }

    /** Normals from {@code stream}; {@code kernel} null = the scalar loop. Tests pick the path with this. */
    ZigguratBlock(Words stream, FastPathProducts kernel) {
        this(stream, kernel, INLINE_EDGE);
    }

    /** As {@link #ZigguratBlock(Words, FastPathProducts)}, with the edge inline or all through Commons. */
    ZigguratBlock(Words stream, FastPathProducts kernel, boolean inlineEdge) {
        if (inlineEdge && !CommonsZigguratTables.AVAILABLE)
            throw new IllegalStateException(
                    "Commons' ziggurat tables are unavailable: " + CommonsZigguratTables.PROBLEM);
        this.stream = stream;
        this.inlineEdge = inlineEdge;
        this.kernel = kernel;
        this.products = kernel == null ? null : new double[BLOCK];
    }

    /** Starts over on keystream {@code streamId}, as a new instance would. */
    ZigguratBlock restart(long streamId) {
        stream.restart(streamId);
        next = BLOCK;
        productsCurrent = false;
        return this;
    }

    /** The next keystream word: Commons' sampler reads its edge cases through this. */
    @Override
    public long nextLong() {
        if (next == BLOCK) refill();
        return words[next++];
    }

    private void refill() {
        stream.next(words, 0, BLOCK);
        next = 0;
        productsCurrent = false;
    }

    /** The products of the current block, computed once per block (after the first refill). */
    private double[] products() {
        if (next == BLOCK) refill();
        if (!productsCurrent) {
            kernel.products(words, products, BLOCK);
            productsCurrent = true;
        }
        return products;
    }

    /** One standard normal: the fast case and the edge inline, the rest (or a block's last word) through Commons. */
    double sample() {
        if (next < BLOCK) {
            long w = words[next];
            int j = (int) w & 0xff;
            if (j < I_MAX) {
                next++;
                return X[j] * w;
            }
            if (inlineEdge) return edge(w);
        }
        return commons.sample();
    }

    /**
     * Commons' {@code edgeSample} for the edge word xx = words[next], reading the words after it
     * from the array as Commons reads them from its generator (alias word, then 63-bit uniforms;
     * rejections repeat with fresh ones). The tail (layer 0), the inflection layer (0.03% of draws
     * together) and any draw that would need a word past the block go back to xx and through
     * Commons' sampler, which re-reads the same words: the value is Commons' in every case.
     */
    private double edge(long xx) {
        final int start = next;
        final long[] w = words;
        int q = start + 1;
        if (q >= BLOCK) return commonsFrom(start);
        long a = w[q++];
        int k = (int) a & 0xff;
        int j = a >= IPMF[k] ? MAP[k] & 0xff : k;
        long u1 = xx & Long.MAX_VALUE;
        double sign = ((xx >>> 62) & 2L) - 1.0;
        double x;
        if (j > J_INFLECTION) {
            // Convex overhang: accept below the diagonal, or under the curve near it.
            for (; ; ) {
                x = interpolate(EX, j, u1);
                if (q >= BLOCK) return commonsFrom(start);
                long uDiff = (w[q++] >>> 1) - u1;
                if (uDiff >= 0) break;
                if (uDiff >= CONVEX_E_MAX && interpolate(EY, j, u1 + uDiff) < Math.exp(-0.5 * x * x)) break;
                if (q >= BLOCK) return commonsFrom(start);
                u1 = w[q++] >>> 1;
            }
        } else if (j < J_INFLECTION && j != 0) {
            // Concave overhang: the lower-left triangle, reflected, under the curve.
            for (; ; ) {
                if (q >= BLOCK) return commonsFrom(start);
                long u2 = w[q++] >>> 1;
                long uy = u1 < u2 ? u2 : u1;
                u1 = u1 < u2 ? u1 : u2;
                x = interpolate(EX, j, u1);
                if (uy - u1 > CONCAVE_E_MAX) break;
                if (interpolate(EY, j, uy) < Math.exp(-0.5 * x * x)) break;
                if (q >= BLOCK) return commonsFrom(start);
                u1 = w[q++] >>> 1;
            }
        } else {
            return commonsFrom(start);
        }
        next = q;
        return sign * x;
    }

    /** Commons' interpolation within layer j, the same operations in the same order. */
    private static double interpolate(double[] t, int j, long u) {
        return t[j] * 0x1p63 + u * (t[j - 1] - t[j]);
    }

    /** Commons' sampler from word {@code start} on (words not yet consumed: the same draw). */
    private double commonsFrom(int start) {
        next = start;
        return commons.sample();
    }

    /** v[i] = (float) (v[i] + scale·(z1 + z2 + z3 + z4)) for i in [from, to), normals in stream order. */
    void addSumsOfFour(float[] v, int from, int to, double scale) {
        if (kernel != null) {
            addSumsOfFourFromProducts(v, from, to, scale);
            return;
        }
        final double[] x = X;
        final long[] w = words;
        int i = from;
        while (i < to) {
            // A run of coordinates whose four words are all in this block and all on the fast path,
            // with the cursor in a register; it stops at the first other case or the block's end.
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            for (; i < end; i++, q += 4) {
                long w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
                int j0 = (int) w0 & 0xff, j1 = (int) w1 & 0xff, j2 = (int) w2 & 0xff, j3 = (int) w3 & 0xff;
                if (!(j0 < I_MAX & j1 < I_MAX & j2 < I_MAX & j3 < I_MAX)) break;
                // ((z1 + z2) + z3) + z4, the order of g.sample() + g.sample() + g.sample() + g.sample().
                v[i] = (float) (v[i] + scale * (x[j0] * w0 + x[j1] * w1 + x[j2] * w2 + x[j3] * w3));
            }
            next = q;
            if (i < to) {
                v[i] = (float) (v[i] + scale * (sample() + sample() + sample() + sample()));
                i++;
            }
        }
    }

    /** out[i] = scale·(z1 + z2 + z3 + z4) for i in [from, to), the same values addSumsOfFour adds. */
    void sumsOfFour(double[] out, int from, int to, double scale) {
        if (kernel != null) {
            sumsOfFourFromProducts(out, from, to, scale);
            return;
        }
        final double[] x = X;
        final long[] w = words;
        int i = from;
        while (i < to) {
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            for (; i < end; i++, q += 4) {
                long w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
                int j0 = (int) w0 & 0xff, j1 = (int) w1 & 0xff, j2 = (int) w2 & 0xff, j3 = (int) w3 & 0xff;
                if (!(j0 < I_MAX & j1 < I_MAX & j2 < I_MAX & j3 < I_MAX)) break;
                out[i] = scale * (x[j0] * w0 + x[j1] * w1 + x[j2] * w2 + x[j3] * w3);
            }
            next = q;
            if (i < to) {
                out[i] = scale * (sample() + sample() + sample() + sample());
                i++;
            }
        }
    }

    /**
     * addSumsOfFour on the kernel's products: the same ((p1 + p2) + p3) + p4 of the same products, so
     * the same values; a NaN sum (a word off the fast path) takes the case-by-case path. That path may
     * read on into the next block, which refills and invalidates the products.
     */
    private void addSumsOfFourFromProducts(float[] v, int from, int to, double scale) {
        int i = from;
        while (i < to) {
            final double[] p = products();
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            // Whole vectors of coordinates while none needs the edge or tail, then one by one.
            int done = kernel.addSums(p, q, v, i, end, scale);
            i += done;
            q += 4 * done;
            for (; i < end; i++, q += 4) {
                double s = p[q] + p[q + 1] + p[q + 2] + p[q + 3];
                if (s != s) break;
                v[i] = (float) (v[i] + scale * s);
            }
            next = q;
            if (i < to) {
                v[i] = (float) (v[i] + scale * (sample() + sample() + sample() + sample()));
                i++;
            }
        }
    }

    /** sumsOfFour on the kernel's products, as addSumsOfFourFromProducts. */
    private void sumsOfFourFromProducts(double[] out, int from, int to, double scale) {
        int i = from;
        while (i < to) {
            final double[] p = products();
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            int done = kernel.sums(p, q, out, i, end, scale);
            i += done;
            q += 4 * done;
            for (; i < end; i++, q += 4) {
                double s = p[q] + p[q + 1] + p[q + 2] + p[q + 3];
                if (s != s) break;
                out[i] = scale * s;
            }
            next = q;
            if (i < to) {
                out[i] = scale * (sample() + sample() + sample() + sample());
                i++;
            }
        }
    }

    /**
     * The inline edge against Commons on a seeded stream in which 30% of words are edge words
     * (with all 256 low bytes among the rest), across block ends: bit for bit, or it is not used.
     */
    private static boolean inlineEdgeReproducesCommons() {
        for (int j = 0; j < I_MAX; j++)
            if (Double.doubleToRawLongBits(X[j] * 0x1p63) != Double.doubleToRawLongBits(EX[j] * 0x1p63)) return false;
        SplittableRandom r = new SplittableRandom(20261201);
        long[] src = new long[3 * BLOCK + 17];
        for (int i = 0; i < src.length; i++) {
            long word = r.nextLong();
            src[i] = r.nextInt(10) < 3 ? (word & ~0xffL) | (I_MAX + r.nextInt(256 - I_MAX)) : word;
        }
        Words words = new Words() {
            private int at;

            @Override
            public void next(long[] out, int off, int len) {
                for (int i = 0; i < len; i++) out[off + i] = src[at++ % src.length];
            }

            @Override
            public void restart(long streamId) {
                at = 0;
            }
        };
        ZigguratBlock inline = new ZigguratBlock(words, null, true);
        int[] at = {0};
        ZigguratSampler.NormalizedGaussian commons =
                ZigguratSampler.NormalizedGaussian.of(() -> src[at[0]++ % src.length]);
        for (int i = 0; i < 3 * BLOCK; i++)
            if (Double.doubleToRawLongBits(commons.sample()) != Double.doubleToRawLongBits(inline.sample()))
                return false;
        return true;
    }

    /** The layer table with NaN where a low byte leaves the fast path: a kernel's products table. */
    static double[] fastPathTable() {
        double[] x = X.clone();
        for (int j = I_MAX; j < x.length; j++) x[j] = Double.NaN;
        return x;
    }

    /**
     * Commons' fast-path table, read through its public API rather than copied: a word
     * w = Long.MIN_VALUE | j takes the fast path for j below I_MAX and converts exactly to -2^63, so
     * the sample is X[j]·(-2^63), a power-of-two scaling that division undoes exactly.
     */
    private static double[] layerTable() {
        double[] x = new double[256];
        for (int j = 0; j < I_MAX; j++) {
            long w = Long.MIN_VALUE | j;
            x[j] = ZigguratSampler.NormalizedGaussian.of(() -> w).sample() / -0x1p63;
        }
        return x;
    }
}
