package org.dpsgd.report;

import java.util.List;
import java.util.Locale;

/**
 * What each axis of a {@link Chart} shows: its range, chosen by the axis's {@link Chart.Axis} kind,
 * and how a tick is labelled. XChart places the ticks inside the range; this class decides what
 * suits the data: steps and ε start at 0 and label whole steps only, accuracy stays within [0, 1],
 * and a single point gets a range around it rather than a sliver at an edge.
 */
final class ChartAxes {
    final double xMin;
    final double xMax;
    final double yMin;
    final double yMax;
    private final Chart.Axis xAxis;
    private final List<String> categories;

    ChartAxes(Chart c) {
        double x0 = Double.POSITIVE_INFINITY,
                x1 = Double.NEGATIVE_INFINITY,
                y0 = Double.POSITIVE_INFINITY,
                y1 = Double.NEGATIVE_INFINITY;
        if (c.isBarChart()) {
            for (Chart.Bar b : c.bars()) {
                if (!Double.isFinite(b.value())) continue;
                y0 = Math.min(y0, b.value());
                y1 = Math.max(y1, b.value());
            }
        } else {
            for (Series s : c.series()) {
                for (int i = 0; i < s.x().length; i++) {
                    if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) continue;
                    x0 = Math.min(x0, s.x()[i]);
                    x1 = Math.max(x1, s.x()[i]);
                    y0 = Math.min(y0, s.y()[i]);
                    y1 = Math.max(y1, s.y()[i]);
                }
            }
        }
        double[] y = range(c.yAxis(), y0, y1);
        this.yMin = y[0];
        this.yMax = y[1];
        this.xAxis = c.isBarChart() ? Chart.Axis.CATEGORY : c.xAxis();
        if (xAxis == Chart.Axis.CATEGORY) {
            this.categories =
                    c.isBarChart() ? c.bars().stream().map(Chart.Bar::label).toList() : c.xCategories();
            // The first and last category at the plot's edges (XChart pads them inwards), one tick per category.
            this.xMin = categories.size() > 1 ? 0 : -0.5;
            this.xMax = categories.size() > 1 ? categories.size() - 1 : 0.5;
        } else {
            this.categories = List.of();
            double[] x = range(xAxis, x0, x1);
            this.xMin = x[0];
            this.xMax = x[1];
        }
    }

    /** The [lo, hi] an axis of this kind shows for data in [lo, hi] (infinite bounds: no data). */
    static double[] range(Chart.Axis axis, double lo, double hi) {
        if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
            lo = 0;
            hi = 1;
        }
        switch (axis) {
            case COUNT, FROM_ZERO -> {
                lo = Math.min(0, lo);
                if (hi <= lo) hi = lo + 1;
            }
            case FRACTION -> {
                if (hi - lo < 0.1) { // one point, or a flat curve: a window of 0.1 around it
                    double mid = (lo + hi) / 2;
                    lo = mid - 0.05;
                    hi = mid + 0.05;
                }
                if (lo < 0) {
                    hi = Math.min(1, hi - lo);
                    lo = 0;
                }
                if (hi > 1) {
                    lo = Math.max(0, lo - (hi - 1));
                    hi = 1;
                }
            }
            default -> {
                if (hi <= lo) {
                    double pad = lo == 0 ? 0.5 : Math.abs(lo) * 0.1;
                    lo -= pad;
                    hi += pad;
                }
            }
        }
        return nice(axis, lo, hi);
    }

    /**
     * [lo, hi] widened to whole multiples of a round step (1, 2 or 5 times a power of ten, about five
     * of them; whole numbers for counts), kept within [0, 1] for fractions. Besides looking tidy this
     * keeps XChart on its round-number ticks: it puts ticks at the data values instead whenever those
     * and the axis ends are evenly spaced, which for one bar at 1082 gave the ticks 0 and 1082.
     */
    static double[] nice(Chart.Axis axis, double lo, double hi) {
        double raw = (hi - lo) / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        if (axis == Chart.Axis.COUNT) step = Math.max(1, Math.rint(step));
        double a = Math.floor(lo / step + 1e-9) * step, b = Math.ceil(hi / step - 1e-9) * step;
        if (axis == Chart.Axis.FRACTION) {
            a = Math.max(0, a);
            b = Math.min(1, b);
        }
        return new double[] {round(a), round(b)};
    }

    /** No 0.30000000000000004 at an axis end. */
    private static double round(double v) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.12g", v));
    }

    /**
     * The label of an x tick that XChart placed at {@code v}: a category's name or a whole step,
     * and nothing for positions between them (XChart may place ticks at 0.5 on a short axis).
     */
    String xLabel(double v) {
        boolean whole = Math.abs(v - Math.rint(v)) < 1e-9;
        return switch (xAxis) {
            case CATEGORY -> whole && v >= 0 && v < categories.size() ? categories.get((int) Math.rint(v)) : "";
            case COUNT -> whole ? format(Math.rint(v)) : "";
            default -> format(v);
        };
    }

    static String format(double v) {
        if (v == 0 || Math.abs(v) < 1e-12) return "0";
        double a = Math.abs(v);
        if (a >= 1e5 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        if (a >= 100 || v == Math.rint(v)) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 1)
            return String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
        return String.format(Locale.ROOT, "%.3f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
    }
}
