package org.dpsgd.testing;

/** Comparisons the parity tests of every module share. */
public final class Numerics {
    private Numerics() {}

    /**
     * ‖a − b‖₂ / ‖b‖₂ in double precision: how far {@code a} is from the reference {@code b}, relative to its size (the
     * denominator is floored at 1e-300, so two zero vectors are 0 apart).
     */
    public static double relativeError(float[] a, float[] b) {
        if (a.length != b.length)
            throw new IllegalArgumentException("lengths differ: " + a.length + " and " + b.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }
}
