package org.dpsgd.noise;

/**
 * The ziggurat's fast-path products of a block of words, computed for the whole block in one pass
 * so that a SIMD kernel can do the table look-ups as gathers: out[q] = X[j]·w for a word w whose
 * low byte j takes the fast path, NaN for any other word (so a sum of four products is NaN exactly
 * when one of its words needs the edge or tail). Each product is the same double multiply the
 * scalar loop does, so the values are the scalar path's bit for bit.
 */
interface FastPathProducts {
    /** out[q] = X[w[q] &amp; 0xff]·w[q], or NaN off the fast path, for q in [0, len). */
    void products(long[] w, double[] out, int len);

    /** What runs, for reports: e.g. "vector (jdk.incubator.vector, 512-bit gathers)". */
    String description();
}
