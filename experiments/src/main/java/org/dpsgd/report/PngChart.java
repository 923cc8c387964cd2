package org.dpsgd.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Draws a {@link Chart} with Java2D into a PNG (2x scale, for papers), matching the SVG layout. */
final class PngChart {
    private static final int SCALE = 2;

    private PngChart() {}

    static void write(Chart c, Path file) {
        BufferedImage img = render(c);
        try {
            if (!ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    static BufferedImage render(Chart c) {
        ChartLayout l = new ChartLayout(c);
        BufferedImage img =
                new BufferedImage(ChartLayout.WIDTH * SCALE, ChartLayout.HEIGHT * SCALE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.scale(SCALE, SCALE);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, ChartLayout.WIDTH, ChartLayout.HEIGHT);
            double x0 = ChartLayout.LEFT,
                    x1 = ChartLayout.WIDTH - ChartLayout.RIGHT,
                    y0 = ChartLayout.TOP,
                    y1 = ChartLayout.HEIGHT - ChartLayout.BOTTOM;
            Font tick = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.setColor(new Color(0x222222));
            text(g, c.title(), ChartLayout.WIDTH / 2.0 - ChartLayout.RIGHT / 2.0, 20, 0.5);
            g.setFont(tick);
            for (double t : l.yTicks) {
                g.setColor(new Color(0xe5e5e5));
                line(g, x0, l.py(t), x1, l.py(t));
                g.setColor(Color.DARK_GRAY);
                text(g, ChartLayout.format(t), x0 - 6, l.py(t) + 4, 1);
            }
            for (int i = 0; i < l.xTicks.length && !c.isBarChart(); i++) {
                double t = l.xTicks[i];
                g.setColor(new Color(0xf0f0f0));
                line(g, l.px(t), y0, l.px(t), y1);
                g.setColor(Color.DARK_GRAY);
                text(g, l.xTickLabel(i), l.px(t), y1 + 16, 0.5);
            }
            g.setColor(new Color(0x333333));
            line(g, x0, y1, x1, y1);
            line(g, x0, y0, x0, y1);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(new Color(0x222222));
            text(g, c.xLabel(), (x0 + x1) / 2, ChartLayout.HEIGHT - 8, 0.5);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2, 14, (y0 + y1) / 2);
            text(g, c.yLabel(), 14, (y0 + y1) / 2, 0.5);
            g.setTransform(saved);
            g.setFont(tick);
            if (c.isBarChart()) {
                double slot = (x1 - x0) / c.bars().size();
                for (int i = 0; i < c.bars().size(); i++) {
                    Chart.Bar b = c.bars().get(i);
                    double v = Double.isFinite(b.value()) ? b.value() : 0;
                    g.setColor(Color.decode(ChartLayout.color(i)));
                    g.fill(new java.awt.geom.Rectangle2D.Double(
                            x0 + slot * (i + 0.15), l.py(v), slot * 0.7, y1 - l.py(v)));
                    g.setColor(Color.DARK_GRAY);
                    text(g, b.label(), x0 + slot * (i + 0.5), y1 + 16, 0.5);
                }
            } else {
                g.setStroke(new BasicStroke(1.6f));
                for (int i = 0; i < c.series().size(); i++) {
                    Series s = c.series().get(i);
                    g.setColor(Color.decode(ChartLayout.color(i)));
                    Path2D.Double p = new Path2D.Double();
                    boolean started = false;
                    for (int k = 0; k < s.x().length; k++) {
                        if (!Double.isFinite(s.x()[k]) || !Double.isFinite(s.y()[k])) continue;
                        if (started) p.lineTo(l.px(s.x()[k]), l.py(s.y()[k]));
                        else p.moveTo(l.px(s.x()[k]), l.py(s.y()[k]));
                        started = true;
                    }
                    g.draw(p);
                    if (s.markers()) { // short series: every point visible, a single one included
                        double r = s.finitePoints() == 1 ? 3.5 : 2.5;
                        for (int k = 0; k < s.x().length; k++) {
                            if (!Double.isFinite(s.x()[k]) || !Double.isFinite(s.y()[k])) continue;
                            g.fill(new java.awt.geom.Ellipse2D.Double(
                                    l.px(s.x()[k]) - r, l.py(s.y()[k]) - r, 2 * r, 2 * r));
                        }
                    }
                    double ly = y0 + 8 + 16 * i;
                    line(g, x1 + 10, ly, x1 + 26, ly);
                    g.setColor(Color.DARK_GRAY);
                    text(g, SvgChart.shorten(s.name()), x1 + 30, ly + 4, 0);
                }
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static void line(Graphics2D g, double x0, double y0, double x1, double y1) {
        g.draw(new java.awt.geom.Line2D.Double(x0, y0, x1, y1));
    }

    /** @param anchor 0 = left, 0.5 = centre, 1 = right */
    private static void text(Graphics2D g, String s, double x, double y, double anchor) {
        if (s == null || s.isEmpty()) return;
        FontMetrics fm = g.getFontMetrics();
        g.drawString(s, (float) (x - anchor * fm.stringWidth(s)), (float) y);
    }
}
