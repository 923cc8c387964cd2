package org.dpsgd.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Geometry shared by the SVG and PNG renderers: plot area, data ranges, "nice" ticks, and the
 * mapping from data to pixels, so both outputs show the same chart. Ranges follow each axis's
 * {@link Chart.Axis}: steps and ε start at 0 with integer ticks for steps, accuracy stays within
 * [0, 1], and a single point gets a range around it rather than a sliver at an edge.
 */
final class ChartLayout {
    static final int WIDTH = 560;
    static final int HEIGHT = 340;
    static final int LEFT = 64;
    static final int RIGHT = 150;
    static final int TOP = 34;
    static final int BOTTOM = 46;
    static final String[] COLORS = {
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
    };

    final double xMin;
    final double xMax;
    final double yMin;
    final double yMax;
    final double[] xTicks;
    final double[] yTicks;
    private final List<String> categories;

    ChartLayout(Chart c) {
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
        this.yTicks = ticks(y[0], y[1], c.yAxis());
        this.yMin = Math.min(y[0], yTicks[0]);
        this.yMax = Math.max(y[1], yTicks[yTicks.length - 1]);
        int k = c.isBarChart() ? c.bars().size() : c.xCategories().size();
        if (c.isBarChart() || c.xAxis() == Chart.Axis.CATEGORY) {
            this.categories =
                    c.isBarChart() ? c.bars().stream().map(Chart.Bar::label).toList() : c.xCategories();
            this.xMin = -0.5;
            this.xMax = Math.max(1, k) - 0.5;
            this.xTicks = new double[k];
            for (int i = 0; i < k; i++) xTicks[i] = i;
        } else {
            this.categories = List.of();
            double[] x = range(c.xAxis(), x0, x1);
            this.xTicks = ticks(x[0], x[1], c.xAxis());
            this.xMin = Math.min(x[0], xTicks[0]);
            this.xMax = Math.max(x[1], xTicks[xTicks.length - 1]);
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
        return new double[] {lo, hi};
    }

    double px(double x) {
        return LEFT + (x - xMin) / (xMax - xMin) * (WIDTH - LEFT - RIGHT);
    }

    double py(double y) {
        return HEIGHT - BOTTOM - (y - yMin) / (yMax - yMin) * (HEIGHT - TOP - BOTTOM);
    }

    /** The label of x tick {@code i}: a category's name, or the formatted value. */
    String xTickLabel(int i) {
        return categories.isEmpty() ? format(xTicks[i]) : categories.get(i);
    }

    static double[] ticks(double lo, double hi) {
        return ticks(lo, hi, Chart.Axis.VALUE);
    }

    /**
     * About five round ticks (1, 2 or 5 times a power of ten) covering [lo, hi]; whole numbers for
     * counts, and never outside [0, 1] for fractions.
     */
    static double[] ticks(double lo, double hi, Chart.Axis axis) {
        double raw = (hi - lo) / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        if (axis == Chart.Axis.COUNT) step = Math.max(1, Math.rint(step));
        double start = Math.floor(lo / step) * step;
        List<Double> t = new ArrayList<>();
        for (int i = 0; ; i++) {
            double v = start + i * step;
            if (v > hi + step * 0.999) break;
            v = Math.abs(v) < step * 1e-9
                    ? 0
                    : Double.parseDouble(String.format(Locale.ROOT, "%.12g", v)); // no 0.30000000000000004
            if (axis == Chart.Axis.FRACTION && (v < 0 || v > 1)) continue;
            t.add(v);
        }
        if (t.isEmpty()) t.add(lo);
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String format(double v) {
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (a >= 1e5 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        if (a >= 100 || v == Math.rint(v)) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 1)
            return String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
        return String.format(Locale.ROOT, "%.3f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    static String color(int i) {
        return COLORS[i % COLORS.length];
    }
}
