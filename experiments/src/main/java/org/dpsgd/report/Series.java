package org.dpsgd.report;

/** One named line of (x, y) points; non-finite points are skipped when drawn. */
public record Series(String name, double[] x, double[] y) {
    /** Series with at most this many points get a marker on every point (a single point would otherwise be invisible). */
    static final int MARKER_MAX_POINTS = 40;

    public Series {
        if (x.length != y.length)
            throw new IllegalArgumentException(
                    "series " + name + ": " + x.length + " x values, " + y.length + " y values");
    }

    public boolean isEmpty() {
        return finitePoints() == 0;
    }

    /** Points where both x and y are finite (the ones drawn). */
    public int finitePoints() {
        int n = 0;
        for (int i = 0; i < x.length; i++) if (Double.isFinite(x[i]) && Double.isFinite(y[i])) n++;
        return n;
    }

    boolean markers() {
        return finitePoints() <= MARKER_MAX_POINTS;
    }
}
