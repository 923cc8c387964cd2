package org.dpsgd.noise;

/**
 * Standard normals read from an AES-CTR keystream in blocks of words: a 1,024-slot ziggurat of
 * equal-area rectangles over {@link ZigguratTables}, one 64-bit word per normal in its common case.
 * Bits 0..9 of a word choose the slot k. For a rectangle slot (k &lt; N, about 99.6% of words) bits
 * 10..63, read as a signed integer m in [-2^53, 2^53), give the normal m·a_k·2^-53, uniform over
 * [-a_k, a_k): no comparison, as in McFarland's (2016) layout. A residual slot samples the rest of
 * the density: bits 10..62 choose the piece (tail, a layer's wedge or the cap) in proportion to its
 * area, bit 63 the sign, and fresh words then draw within the piece (the tail by Marsaglia's 1964
 * method, the others by rejection from the piece's box against exp(-x²/2)). Layer, value and
 * piece bits are disjoint (Doornik 2005: the classic 32-bit ziggurat reused index bits in the
 * value). The common case runs inline over an array of words (no call, no refill check per word),
 * four normals at a time.
 *
 * <p>With a {@link FastPathProducts} kernel (the Vector API's gathers, {@link SamplerPath}), the
 * fast-path values of each block are computed in one SIMD pass and the loop over coordinates only
 * sums four of them; a NaN sum sends the coordinate down the same case-by-case path as without.
 */
final class ZigguratBlock {
    // Words per keystream read: a multiple of AesCtrStream's 1,024-word block, so reads decode
    // straight into this array, and 16 KiB, so it stays in the L1 cache with the 8 KiB scale table.
    static final int BLOCK = 2048;
    private static final int SLOT = ZigguratTables.SLOTS - 1;
    // Constants for C2 (static final): the fast test is one compare with N, and the table's length
    // is known, so its look-ups need no bounds checks.
    private static final ZigguratTables T = ZigguratTables.EXACT;
    private static final int N = T.rectangles;
    private static final double[] SCALE = T.scale;
    private static final long[] KEEP = T.keep;
    private static final int[] ALIAS = T.alias;

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

    /** The next keystream word. */
    long nextLong() {
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

    /** The fast-case value of word {@code w}: m·a_k·2^-53 for a rectangle slot, NaN for a residual slot. */
    static double fastValue(long w) {
        return (w >> 10) * SCALE[(int) w & SLOT];
    }

    /** One standard normal: a rectangle slot inline, anything else (or a word at a block's end) word by word. */
    double sample() {
        if (next < BLOCK) {
            long w = words[next];
            int k = (int) w & SLOT;
            if (k < N) {
                next++;
                return (w >> 10) * SCALE[k];
            }
        }
        long w = nextLong();
        int k = (int) w & SLOT;
        return k < N ? (w >> 10) * SCALE[k] : residual(w);
    }

    /** A normal from the residual, for a word {@code w} whose slot is not a rectangle. */
    private double residual(long w) {
        int c = (int) (w >>> 10) & SLOT;
        int p = ((w >>> 20) & ((1L << 43) - 1)) < KEEP[c] ? c : ALIAS[c];
        double x = p == 0 ? tail() : inPiece(p);
        return w < 0 ? -x : x;
    }

    /** A point of piece p ≥ 1, uniform under the curve in its box [a[p], a[p-1]] × [h[p], h[p+1]]: by rejection. */
    private double inPiece(int p) {
        final double[] a = T.a, h = T.h;
        double left = a[p], width = a[p - 1] - a[p], bottom = h[p], height = h[p + 1] - h[p];
        for (; ; ) {
            double x = left + uniform() * width;
            double y = bottom + uniform() * height;
            if (y < ZigguratTables.f(x)) return x;
        }
    }

    /**
     * A point beyond r = a[0] from the normal's tail (Marsaglia 1964): e = -ln(u1)/r is exponential,
     * and accepting it when -2·ln(u2) &gt; e² makes r + e the tail's law.
     */
    private double tail() {
        double r = T.a[0];
        for (; ; ) {
            double e = -Math.log(1 - uniform()) / r;
            double d = -Math.log(1 - uniform());
            if (d + d > e * e) return r + e;
        }
    }

    /** A uniform double in [0, 1) from the top 53 bits of the next word. */
    private double uniform() {
        return (nextLong() >>> 11) * 0x1p-53;
    }

    /** v[i] = (float) (v[i] + scale·(z1 + z2 + z3 + z4)) for i in [from, to), normals in stream order. */
    void addSumsOfFour(float[] v, int from, int to, double scale) {
        if (kernel != null) {
            addSumsOfFourFromProducts(v, from, to, scale);
            return;
        }
        final double[] s = SCALE;
        final long[] w = words;
        int i = from;
        while (i < to) {
            // A run of coordinates whose four words are all in this block and all in rectangle slots,
            // with the cursor in a register; it stops at the first other case or the block's end.
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            for (; i < end; i++, q += 4) {
                long w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
                int k0 = (int) w0 & SLOT, k1 = (int) w1 & SLOT, k2 = (int) w2 & SLOT, k3 = (int) w3 & SLOT;
                if (!(k0 < N & k1 < N & k2 < N & k3 < N)) break;
                // ((z1 + z2) + z3) + z4, the order of sample() + sample() + sample() + sample().
                v[i] = (float) (v[i]
                        + scale * ((w0 >> 10) * s[k0] + (w1 >> 10) * s[k1] + (w2 >> 10) * s[k2] + (w3 >> 10) * s[k3]));
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
        final double[] s = SCALE;
        final long[] w = words;
        int i = from;
        while (i < to) {
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            for (; i < end; i++, q += 4) {
                long w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
                int k0 = (int) w0 & SLOT, k1 = (int) w1 & SLOT, k2 = (int) w2 & SLOT, k3 = (int) w3 & SLOT;
                if (!(k0 < N & k1 < N & k2 < N & k3 < N)) break;
                v[i] = v[i]
                        + scale * ((w0 >> 10) * s[k0] + (w1 >> 10) * s[k1] + (w2 >> 10) * s[k2] + (w3 >> 10) * s[k3]);
            }
            next = q;
            if (i < to) {
                v[i] = v[i] + scale * (sample() + sample() + sample() + sample());
                i++;
            }
        }
    }

    /**
     * out[i] = (float) (sum[i + d] + scale·(z1 + z2 + z3 + z4)) for i in [from, to): the float
     * overload's arithmetic with a double operand, so the noisy float64 sum rounded once; sum is only
     * read. {@code d} shifts where the sum is read (a piece buffer for a range of the output; 0 when
     * both are the same vector's coordinates).
     */
    void addSumsOfFour(double[] sum, int d, float[] out, int from, int to, double scale) {
        if (kernel != null) {
            addSumsOfFourFromProducts(sum, d, out, from, to, scale);
            return;
        }
        final double[] s = SCALE;
        final long[] w = words;
        int i = from;
        while (i < to) {
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            for (; i < end; i++, q += 4) {
                long w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
                int k0 = (int) w0 & SLOT, k1 = (int) w1 & SLOT, k2 = (int) w2 & SLOT, k3 = (int) w3 & SLOT;
                if (!(k0 < N & k1 < N & k2 < N & k3 < N)) break;
                out[i] = (float) (sum[i + d]
                        + scale * ((w0 >> 10) * s[k0] + (w1 >> 10) * s[k1] + (w2 >> 10) * s[k2] + (w3 >> 10) * s[k3]));
            }
            next = q;
            if (i < to) {
                out[i] = (float) (sum[i + d] + scale * (sample() + sample() + sample() + sample()));
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
        final double[] s = SCALE;
        final long[] w = words;
        int i = from;
        while (i < to) {
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            for (; i < end; i++, q += 4) {
                long w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
                int k0 = (int) w0 & SLOT, k1 = (int) w1 & SLOT, k2 = (int) w2 & SLOT, k3 = (int) w3 & SLOT;
                if (!(k0 < N & k1 < N & k2 < N & k3 < N)) break;
                out[i] = scale * ((w0 >> 10) * s[k0] + (w1 >> 10) * s[k1] + (w2 >> 10) * s[k2] + (w3 >> 10) * s[k3]);
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

    /** The rounded overload of addSumsOfFourFromProducts: (float) (sum[i + d] + scale·s), sum only read. */
    private void addSumsOfFourFromProducts(double[] sum, int d, float[] out, int from, int to, double scale) {
        int i = from;
        while (i < to) {
            final double[] p = products();
            int q = next;
            int end = Math.min(to, i + (BLOCK - q) / 4);
            int done = kernel.addSumsRounded(p, q, sum, d, out, i, end, scale);
            i += done;
            q += 4 * done;
            for (; i < end; i++, q += 4) {
                double s = p[q] + p[q + 1] + p[q + 2] + p[q + 3];
                if (s != s) break;
                out[i] = (float) (sum[i + d] + scale * s);
            }
            next = q;
            if (i < to) {
                out[i] = (float) (sum[i + d] + scale * (sample() + sample() + sample() + sample()));
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
}
