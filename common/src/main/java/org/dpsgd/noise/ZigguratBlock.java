package org.dpsgd.noise;

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

    /** Normals from {@code stream} on the path chosen for this JVM ({@link SamplerPath}). */
    ZigguratBlock(Words stream) {
        this(stream, SamplerPath.kernel());
    }

    /** Normals from {@code stream}; {@code kernel} null = the scalar loop. Tests pick the path with this. */
    ZigguratBlock(Words stream, FastPathProducts kernel) {
        this.stream = stream;
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

    /** One standard normal: the fast case inline, anything else (or a word at a block's end) through Commons. */
    double sample() {
        if (next < BLOCK) {
            long w = words[next];
            int j = (int) w & 0xff;
            if (j < I_MAX) {
                next++;
                return X[j] * w;
            }
        }
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

    /**
     * v[i] = v[i] + scale·(z1 + z2 + z3 + z4) for i in [from, to), in double with no rounding to
     * float: the same normals, summed in the same order, as the float overload adds.
     */
    void addSumsOfFour(double[] v, int from, int to, double scale) {
        if (kernel != null) {
            addSumsOfFourFromProducts(v, from, to, scale);
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
                v[i] = v[i] + scale * (x[j0] * w0 + x[j1] * w1 + x[j2] * w2 + x[j3] * w3);
            }
            next = q;
            if (i < to) {
                v[i] = v[i] + scale * (sample() + sample() + sample() + sample());
                i++;
            }
        }
    }

    /**
     * out[i] = (float) (sum[i] + scale·(z1 + z2 + z3 + z4)) for i in [from, to): the float overload's
     * arithmetic with a double operand, so the noisy float64 sum rounded once; sum is only read.
     */
    void addSumsOfFour(double[] sum, float[] out, int from, int to, double scale) {
        if (kernel != null) {
            addSumsOfFourFromProducts(sum, out, from, to, scale);
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
                out[i] = (float) (sum[i] + scale * (x[j0] * w0 + x[j1] * w1 + x[j2] * w2 + x[j3] * w3));
            }
            next = q;
            if (i < to) {
                out[i] = (float) (sum[i] + scale * (sample() + sample() + sample() + sample()));
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

    /** The double overload of addSumsOfFourFromProducts: the same sums, added without rounding to float. */
    private void addSumsOfFourFromProducts(double[] v, int from, int to, double scale) {
        int i = from;
        while (i < to) {
            final double[] p = products();
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            int done = kernel.addSums64(p, q, v, i, end, scale);
            i += done;
            q += 4 * done;
            for (; i < end; i++, q += 4) {
                double s = p[q] + p[q + 1] + p[q + 2] + p[q + 3];
                if (s != s) break;
                v[i] = v[i] + scale * s;
            }
            next = q;
            if (i < to) {
                v[i] = v[i] + scale * (sample() + sample() + sample() + sample());
                i++;
            }
        }
    }

    /** The rounded overload of addSumsOfFourFromProducts: (float) (sum + scale·s), sum only read. */
    private void addSumsOfFourFromProducts(double[] sum, float[] out, int from, int to, double scale) {
        int i = from;
        while (i < to) {
            final double[] p = products();
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            int done = kernel.addSumsRounded(p, q, sum, out, i, end, scale);
            i += done;
            q += 4 * done;
            for (; i < end; i++, q += 4) {
                double s = p[q] + p[q + 1] + p[q + 2] + p[q + 3];
                if (s != s) break;
                out[i] = (float) (sum[i] + scale * s);
            }
            next = q;
            if (i < to) {
                out[i] = (float) (sum[i] + scale * (sample() + sample() + sample() + sample()));
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
