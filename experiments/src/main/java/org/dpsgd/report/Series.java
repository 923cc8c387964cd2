package org.dpsgd.report;

/** One named line of (x, y) points; non-finite points are skipped when drawn. */
public record Series(String name, double[] x, double[] y) {
    public Series {
        if (x.length != y.length) throw new IllegalArgumentException("series " + name + ": " + x.length + " x values, " + y.length + " y values");
    }

    public boolean isEmpty() {
        for (int i = 0; i < x.length; i++) if (Double.isFinite(x[i]) && Double.isFinite(y[i])) return false;
        return true;
    }
}
