package org.dpsgd.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Geometry shared by the SVG and PNG renderers: plot area, data ranges, "nice" ticks, and the
 * mapping from data to pixels, so both outputs show the same chart.
 */
final class ChartLayout {
    static final int WIDTH = 560;
    static final int HEIGHT = 340;
    static final int LEFT = 64;
    static final int RIGHT = 150;
    static final int TOP = 34;
    static final int BOTTOM = 46;
    static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

    final double xMin;
    final double xMax;
    final double yMin;
    final double yMax;
    final double[] xTicks;
    final double[] yTicks;

    ChartLayout(Chart c) {
        double x0 = Double.POSITIVE_INFINITY, x1 = Double.NEGATIVE_INFINITY, y0 = Double.POSITIVE_INFINITY, y1 = Double.NEGATIVE_INFINITY;
        if (c.isBarChart()) {
            x0 = 0;
            x1 = c.bars().size();
            y0 = 0;
            for (Chart.Bar b : c.bars()) if (Double.isFinite(b.value())) y1 = Math.max(y1, b.value());
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
        if (!Double.isFinite(x0)) { x0 = 0; x1 = 1; }
        if (!Double.isFinite(y0) || !Double.isFinite(y1)) { y0 = 0; y1 = 1; }
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) { y0 -= 0.5; y1 += 0.5; }
        this.yTicks = ticks(y0, y1);
        this.yMin = Math.min(y0, yTicks[0]);
        this.yMax = Math.max(y1, yTicks[yTicks.length - 1]);
        this.xTicks = c.isBarChart() ? new double[0] : ticks(x0, x1);
        this.xMin = c.isBarChart() ? x0 : Math.min(x0, xTicks[0]);
        this.xMax = c.isBarChart() ? x1 : Math.max(x1, xTicks[xTicks.length - 1]);
    }

    double px(double x) {
        return LEFT + (x - xMin) / (xMax - xMin) * (WIDTH - LEFT - RIGHT);
    }

    double py(double y) {
        return HEIGHT - BOTTOM - (y - yMin) / (yMax - yMin) * (HEIGHT - TOP - BOTTOM);
    }

    /** About five round ticks (1, 2 or 5 times a power of ten) covering [lo, hi]. */
    static double[] ticks(double lo, double hi) {
        double raw = (hi - lo) / 5;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        double start = Math.floor(lo / step) * step;
        List<Double> t = new ArrayList<>();
        for (double v = start; v <= hi + step * 0.999; v += step) t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        return t.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String format(double v) {
        if (v == 0) return "0";
        double a = Math.abs(v);
        if (a >= 1e5 || a < 1e-3) return String.format(Locale.ROOT, "%.1e", v);
        if (a >= 100 || v == Math.rint(v)) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 1) return String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
        return String.format(Locale.ROOT, "%.3f", v).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    static String color(int i) {
        return COLORS[i % COLORS.length];
    }
}
