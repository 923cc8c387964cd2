package org.dpsgd.report;

import java.util.Locale;

/** Renders a {@link Chart} as an inline SVG element (no scripts, no external resources). */
final class SvgChart {
    private SvgChart() {}

    static String render(Chart c) {
        ChartLayout l = new ChartLayout(c);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "<svg class=\"chart\" id=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">",
                Html.attr(c.id()),
                ChartLayout.WIDTH,
                ChartLayout.HEIGHT,
                ChartLayout.WIDTH,
                ChartLayout.HEIGHT));
        sb.append("<title>").append(Html.text(c.title())).append("</title>");
        sb.append("<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>");
        sb.append(text(ChartLayout.WIDTH / 2.0 - ChartLayout.RIGHT / 2.0, 20, c.title(), "middle", "title"));
        double x0 = ChartLayout.LEFT,
                x1 = ChartLayout.WIDTH - ChartLayout.RIGHT,
                y0 = ChartLayout.TOP,
                y1 = ChartLayout.HEIGHT - ChartLayout.BOTTOM;
        for (double t : l.yTicks) {
            double y = l.py(t);
            sb.append(line(x0, y, x1, y, "#e5e5e5"));
            sb.append(text(x0 - 6, y + 4, ChartLayout.format(t), "end", "tick"));
        }
        for (int i = 0; i < l.xTicks.length && !c.isBarChart(); i++) {
            double x = l.px(l.xTicks[i]);
            sb.append(line(x, y0, x, y1, "#f0f0f0"));
            sb.append(text(x, y1 + 16, l.xTickLabel(i), "middle", "tick"));
        }
        sb.append(line(x0, y1, x1, y1, "#333")).append(line(x0, y0, x0, y1, "#333"));
        sb.append(text((x0 + x1) / 2, ChartLayout.HEIGHT - 8, c.xLabel(), "middle", "label"));
        sb.append(String.format(
                Locale.ROOT,
                "<text class=\"label\" x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">%s</text>",
                (y0 + y1) / 2,
                (y0 + y1) / 2,
                Html.text(c.yLabel())));
        if (c.isBarChart()) {
            double slot = (x1 - x0) / c.bars().size();
            for (int i = 0; i < c.bars().size(); i++) {
                Chart.Bar b = c.bars().get(i);
                double v = Double.isFinite(b.value()) ? b.value() : 0;
                double top = l.py(v);
                sb.append(String.format(
                        Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>",
                        x0 + slot * (i + 0.15),
                        top,
                        slot * 0.7,
                        y1 - top,
                        ChartLayout.color(i),
                        Html.text(b.label()),
                        ChartLayout.format(v)));
                sb.append(text(x0 + slot * (i + 0.5), y1 + 16, b.label(), "middle", "tick"));
            }
        } else {
            for (int i = 0; i < c.series().size(); i++) {
                Series s = c.series().get(i);
                StringBuilder pts = new StringBuilder();
                int n = 0;
                for (int k = 0; k < s.x().length; k++) {
                    if (!Double.isFinite(s.x()[k]) || !Double.isFinite(s.y()[k])) continue;
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", l.px(s.x()[k]), l.py(s.y()[k])));
                    n++;
                }
                if (n > 1) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"%s\"/>",
                            ChartLayout.color(i),
                            pts.toString().trim()));
                }
                if (s.markers()) { // short series: every point visible, a single one included
                    double r = n == 1 ? 3.5 : 2.5;
                    for (String p : pts.toString().trim().split(" ")) {
                        if (p.isEmpty()) continue;
                        String[] xy = p.split(",");
                        sb.append(String.format(
                                Locale.ROOT,
                                "<circle cx=\"%s\" cy=\"%s\" r=\"%.1f\" fill=\"%s\"/>",
                                xy[0],
                                xy[1],
                                r,
                                ChartLayout.color(i)));
                    }
                }
                double ly = y0 + 8 + 16 * i;
                sb.append(line(x1 + 10, ly, x1 + 26, ly, ChartLayout.color(i)));
                sb.append(text(x1 + 30, ly + 4, shorten(s.name()), "start", "legend"));
            }
        }
        return sb.append("</svg>").toString();
    }

    static String shorten(String s) {
        return s.length() <= 22 ? s : s.substring(0, 21) + "…";
    }

    private static String line(double x0, double y0, double x1, double y1, String color) {
        return String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>",
                x0,
                y0,
                x1,
                y1,
                color);
    }

    private static String text(double x, double y, String s, String anchor, String cls) {
        return String.format(
                Locale.ROOT,
                "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>",
                cls,
                x,
                y,
                anchor,
                Html.text(s));
    }
}
