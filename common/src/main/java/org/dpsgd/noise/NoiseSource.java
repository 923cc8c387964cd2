package org.dpsgd.noise;

/** Adds i.i.d. Gaussian noise to gradient vectors. */
public interface NoiseSource {
    /** Adds N(0, std²) independently to each of {@code v[from..to)}. */
    void addGaussian(float[] v, int from, int to, double std);

    /** Adds N(0, std²) independently to every element of {@code v}. */
    default void addGaussian(float[] v, double std) {
        addGaussian(v, 0, v.length, std);
    }

    /**
     * Adds N(0, std²) independently to each of {@code v[from..to)}, in double with no rounding to
     * float: the same draws, from the same stream positions, as {@link #addGaussian(float[], int, int,
     * double)} would add for the same call, so {@code (float) v[i]} afterwards equals what the float
     * path gives for {@code v[i]} widened from a float. The trainer adds noise to its float64 clipped
     * sum this way and rounds after it, so that rounding is post-processing.
     */
    void addGaussian(double[] v, int from, int to, double std);

    /**
     * {@code out[i] = (float) (sum[i] + z_i)} for i in [from, to), z_i the draws {@link
     * #addGaussian(double[], int, int, double)} would add (N(0, std²), same stream positions), in one
     * pass: the noise goes on the unrounded float64 sum and the result is rounded once, after it;
     * {@code sum} itself is not changed. What the trainer does, at the float path's cost.
     */
    void addGaussianRounded(double[] sum, float[] out, int from, int to, double std);

    /**
     * Opens one draw of N(0, std²) over {@code n} coordinates to be added in pieces ({@link
     * GaussianDraw}): the same draws, from the same stream positions, as one {@link
     * #addGaussian(double[], int, int, double)} call over n coordinates, and it counts as that one
     * call. This default draws all n at once into a buffer of its own (n doubles); the built-in
     * sources draw each piece when it is added.
     */
    default GaussianDraw openDraw(int n, double std) {
        double[] z = new double[n];
        addGaussian(z, 0, n, std);
        return new GaussianDraw() {
            private int position;

            @Override
            public int length() {
                return n;
            }

            @Override
            public void addTo(double[] v, int at, int offset, int count) {
                position = GaussianDraw.checkPiece(n, position, v, at, offset, count);
                for (int k = 0; k < count; k++) v[at + k] += z[offset + k];
            }
        };
    }

    /** Adds N(0, std²) independently to every element of {@code v}, in double. */
    default void addGaussian(double[] v, double std) {
        addGaussian(v, 0, v.length, std);
    }

    /**
     * Blocks until any noise this source is preparing in the background is ready. Training never
     * needs it; benchmarks call it so that background work is charged to the steps that started it.
     */
    default void awaitPrefetch() {}

    /** True for CSPRNG noise that nothing written down can reproduce; results must record it. */
    boolean isSecure();

    /**
     * The number of {@code addGaussian} calls so far, which is all a seeded source needs to resume
     * the same stream; null for a secure source (its key is never written; a resumed run re-keys).
     */
    Long exportState();

    /**
     * Resumes a seeded stream after {@code calls} calls (from {@link #exportState}); a secure source refuses with
     * {@link IllegalStateException}.
     */
    void restoreState(long calls);

    /** "secure" or "fast-insecure", as in the config. */
    String mode();
}
