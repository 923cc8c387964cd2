package org.dpsgd.noise;

/**
 * One draw of N(0, std²) over n coordinates (one call of its {@link NoiseSource}, so the same
 * keystream positions as {@link NoiseSource#addGaussian(double[], int, int, double)} over those n
 * coordinates would use), added in consecutive pieces: a caller can hold just one piece of the
 * vector the noise goes on at a time. Pieces must come in order, each starting where the last one
 * ended, and every piece but the last must be a multiple of {@link #ALIGNMENT} long; each
 * coordinate's noise is then exactly what the one-call overloads add to it. A draw is used once.
 */
public interface GaussianDraw {
    /**
     * Every source accepts pieces whose lengths (but the last) are multiples of this. It is the
     * chunk size of the built-in sources, whose keystream restarts at each chunk, so a piece boundary
     * never cuts one.
     */
    int ALIGNMENT = 1 << 14;

    /** n: the coordinates this draw covers. */
    int length();

    /**
     * {@code v[at + k] += z[offset + k]} for k in [0, count), in double with no rounding, z this
     * draw's noise; {@code offset} must be where the previous piece ended (0 first).
     */
    void addTo(double[] v, int at, int offset, int count);

    /**
     * Work that may still be running on the noise's threads; {@link #await()} returns once it is
     * done (rethrowing its failure). Until then the arrays it was given must not be touched.
     */
    interface Pending {
        /** Nothing left to wait for. */
        Pending DONE = () -> {};

        /** Blocks until the work is done; rethrows what it threw. */
        void await();
    }

    /**
     * Starts {@code out[outAt + k] = (float) (v[at + k] + z[offset + k])} for k in [0, count), z this
     * draw's noise added in double as {@link #addTo} adds it, then rounded once, possibly on the
     * source's noise threads, and returns without waiting. The piece's place in the draw (its offset)
     * is checked and taken now, in the caller's order, so the next piece may be started at once; each
     * coordinate's noise depends only on its offset, so the values are those of addTo and a rounding
     * loop, whatever runs when. Until the returned work is awaited, the caller must not touch {@code
     * v[at, at + count)} or {@code out[outAt, outAt + count)}; afterwards v holds the sum or the noisy
     * sum (the built-in sources only read it; this default adds the noise into it, then rounds), so
     * read the result from out. This default does it all now, on the caller's thread.
     */
    default Pending startAddRounded(double[] v, int at, int offset, int count, float[] out, int outAt) {
        if (outAt < 0 || outAt + count > out.length)
            throw new IllegalArgumentException(
                    "bad output piece [" + outAt + ", " + (outAt + count) + ") of " + out.length);
        addTo(v, at, offset, count);
        round(v, at, out, outAt, 0, count);
        return Pending.DONE;
    }

    /** {@code out[outAt + k] = (float) v[at + k]} for k in [lo, hi): the one rounding of a noised piece. */
    static void round(double[] v, int at, float[] out, int outAt, int lo, int hi) {
        for (int k = lo; k < hi; k++) out[outAt + k] = (float) v[at + k];
    }

    /** Checks a piece against the draw's length, the position reached and the alignment; returns its end. */
    static int checkPiece(int length, int position, double[] v, int at, int offset, int count) {
        if (offset != position)
            throw new IllegalStateException("noise piece at " + offset + ", expected the next one at " + position);
        if (count < 0 || offset + count > length || at < 0 || at + count > v.length)
            throw new IllegalArgumentException("bad noise piece [" + offset + ", " + (offset + count) + ") of " + length
                    + " into [" + at + ", " + (at + count) + ") of " + v.length);
        if (count % ALIGNMENT != 0 && offset + count != length)
            throw new IllegalArgumentException(
                    "a noise piece other than the last must be a multiple of " + ALIGNMENT + " long, got " + count);
        return offset + count;
    }
}
