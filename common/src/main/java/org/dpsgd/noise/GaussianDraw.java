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
