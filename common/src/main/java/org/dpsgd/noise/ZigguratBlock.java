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

    ZigguratBlock(Words stream) {
        this.stream = stream;
    }

    /** Starts over on keystream {@code streamId}, as a new instance would. */
    ZigguratBlock restart(long streamId) {
        stream.restart(streamId);
        next = BLOCK;
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
