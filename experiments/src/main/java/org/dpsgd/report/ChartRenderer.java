package org.dpsgd.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws a {@link Chart} with XChart: as inline SVG for the HTML page (through VectorGraphics2D) and
 * as PNG for papers. Both come from one XChart chart, so they show the same thing. The ranges and
 * tick labels come from {@link ChartAxes}; short series get a marker on every point.
 */
final class ChartRenderer {
    static final int WIDTH = 560;
    static final int HEIGHT = 340;
    /** PNGs are drawn at 2x (144 dpi) for papers. */
    static final int PNG_DPI = 144;

    static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)
    };

    private ChartRenderer() {}

    static Color color(int i) {
        return COLORS[i % COLORS.length];
    }

    /** The XChart chart for {@code c}: a category chart for bars, an XY chart otherwise. */
    static org.knowm.xchart.internal.chartpart.Chart<?, ?> xchart(Chart c) {
        return c.isBarChart() ? bars(c) : lines(c);
    }

    static XYChart lines(Chart c) {
        XYChart x = new XYChartBuilder()
                .width(WIDTH)
                .height(HEIGHT)
                .title(c.title())
                .xAxisTitle(c.xLabel())
                .yAxisTitle(c.yLabel())
                .build();
        style(x.getStyler());
        ChartAxes axes = new ChartAxes(c);
        x.getStyler()
                .setXAxisMin(axes.xMin)
                .setXAxisMax(axes.xMax)
                .setYAxisMin(axes.yMin)
                .setYAxisMax(axes.yMax);
        x.getStyler().setxAxisTickLabelsFormattingFunction(axes::xLabel);
        x.getStyler().setyAxisTickLabelsFormattingFunction(ChartAxes::format);
        Set<String> names = new HashSet<>();
        for (int i = 0; i < c.series().size(); i++) {
            Series s = c.series().get(i);
            int n = s.finitePoints();
            if (n == 0) continue; // nothing to draw; its colour stays reserved so runs keep their colours across charts
            double[] xs = new double[n], ys = new double[n];
            for (int k = 0, j = 0; k < s.x().length; k++) {
                if (!Double.isFinite(s.x()[k]) || !Double.isFinite(s.y()[k])) continue;
                xs[j] = s.x()[k];
                ys[j++] = s.y()[k];
            }
            XYSeries xy = x.addSeries(unique(shorten(s.name()), names), xs, ys);
            xy.setLineColor(color(i));
            xy.setMarkerColor(color(i));
            xy.setLineWidth(1.6f);
            // Short series: every point visible, a single one included (a line through one point draws nothing).
            xy.setMarker(s.markers() ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        }
        return x;
    }

    static CategoryChart bars(Chart c) {
        CategoryChart b = new CategoryChartBuilder()
                .width(WIDTH)
                .height(HEIGHT)
                .title(c.title())
                .xAxisTitle(c.xLabel())
                .yAxisTitle(c.yLabel())
                .build();
        style(b.getStyler());
        ChartAxes axes = new ChartAxes(c);
        b.getStyler().setYAxisMin(axes.yMin).setYAxisMax(axes.yMax);
        b.getStyler().setyAxisTickLabelsFormattingFunction(ChartAxes::format);
        b.getStyler().setLegendVisible(false);
        List<String> labels = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        for (Chart.Bar bar : c.bars()) {
            labels.add(bar.label());
            values.add(Double.isFinite(bar.value()) ? bar.value() : 0);
        }
        b.addSeries(c.yLabel().isEmpty() ? "value" : c.yLabel(), labels, values).setFillColor(color(0));
        return b;
    }

    private static void style(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(false);
        s.setPlotGridLinesColor(new Color(0xe5e5e5));
        s.setChartTitleBoxVisible(false);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(Color.WHITE);
        s.setMarkerSize(7);
        s.setSeriesColors(COLORS);
    }

    /**
     * The chart as an {@code <svg>} element to put inline in the HTML page: the XML prolog dropped,
     * the root given the chart's id, size and a title, and clip-path ids prefixed with the chart's
     * id so that several charts on one page cannot clash.
     */
    static String svg(Chart c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            VectorGraphicsEncoder.saveVectorGraphic(xchart(c), out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String doc = out.toString(StandardCharsets.UTF_8);
        String root = doc.substring(doc.indexOf("<svg"));
        String body = root.substring(root.indexOf('>') + 1);
        // Coordinates to 0.1 px: XChart draws text as glyph outlines, and at full precision that doubles the page's
        // size.
        body = COORDINATE.matcher(body).replaceAll(m -> tenth(m.group()));
        String id = Html.attr(c.id());
        body = body.replace("id=\"clip", "id=\"" + id + "-clip").replace("url(#clip", "url(#" + id + "-clip");
        return "<svg class=\"chart\" id=\"" + id + "\" width=\"" + WIDTH + "\" height=\"" + HEIGHT + "\" viewBox=\"0 0 "
                + WIDTH + " " + HEIGHT + "\" role=\"img\"><title>" + Html.text(c.title()) + "</title>" + body.strip();
    }

    private static final Pattern COORDINATE = Pattern.compile("-?\\d+\\.\\d{2,}");

    private static String tenth(String number) {
        String t = String.format(Locale.ROOT, "%.1f", Double.parseDouble(number));
        return t.endsWith(".0") ? t.substring(0, t.length() - 2) : t;
    }

    /** Writes the chart as a PNG at {@value #PNG_DPI} dpi (twice the SVG's size). */
    static void png(Chart c, Path file) {
        try {
            Files.write(file, pngBytes(c));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The PNG image: XChart painting into a 2x canvas (what its saveBitmapWithDPI does, without a file name). */
    static BufferedImage image(Chart c) {
        double scale = PNG_DPI / 72.0;
        BufferedImage img =
                new BufferedImage((int) (WIDTH * scale), (int) (HEIGHT * scale), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.scale(scale, scale);
            xchart(c).paint(g, WIDTH, HEIGHT);
        } finally {
            g.dispose();
        }
        return img;
    }

    static byte[] pngBytes(Chart c) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(image(c), "png", out)) throw new IOException("no PNG writer");
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Legends have room for 22 characters (run names can be 150). */
    static String shorten(String s) {
        return s.length() <= 22 ? s : s.substring(0, 21) + "…";
    }

    /** XChart refuses two series of one name: two shortened names that collide get a number. */
    private static String unique(String name, Set<String> used) {
        String n = name;
        for (int k = 2; !used.add(n); k++) n = name + " #" + k;
        return n;
    }
}
