package org.dpsgd.noise;

/**
 * The ziggurat's fast-case values of a block of words, computed for the whole block in one pass
 * so that a SIMD kernel can do the table look-ups as gathers: out[q] = m·a_k·2^-53 for a word of
 * rectangle slot k and position m, NaN for a residual slot (so a sum of four is NaN exactly when one
 * of its words needs the residual: a wedge, the cap or the tail); see
 * {@link ZigguratBlock#fastValue}. Each value is the same double multiply the scalar loop does, so
 * the values are the scalar path's bit for bit.
 */
interface FastPathProducts {
    /** out[q] = ZigguratBlock.fastValue(w[q]) (NaN off the fast case) for q in [0, len). */
    void products(long[] w, double[] out, int len);

    /**
     * v[i + k] = (float) (v[i + k] + scale·s_k) for the sums of four s_k = ((p[q+4k] + p[q+4k+1]) +
     * p[q+4k+2]) + p[q+4k+3], over whole groups of the kernel's width from i towards end, stopping
     * before the first group whose sums include a NaN; the number of coordinates done (the caller
     * finishes the rest one by one). Needs q + 4·(end - i) within p.
     */
    int addSums(double[] p, int q, float[] v, int i, int end, double scale);

    /** As {@link #addSums}, but on a double vector with no rounding: v[i + k] = v[i + k] + scale·s_k. */
    int addSums64(double[] p, int q, double[] v, int i, int end, double scale);

    /**
     * As {@link #addSums}, but from a double vector into a float one: out[i + k] = (float) (sum[i + d +
     * k] + scale·s_k) ({@code d} shifts where the sum is read).
     */
    int addSumsRounded(double[] p, int q, double[] sum, int d, float[] out, int i, int end, double scale);

    /** As {@link #addSums}, but out[i + k] = scale·s_k. */
    int sums(double[] p, int q, double[] out, int i, int end, double scale);

    /** What runs, for reports: e.g. "vector (jdk.incubator.vector, 512-bit gathers)". */
    String description();
}
