package org.dpsgd.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.dpsgd.run.RunDirectory;
import org.dpsgd.run.RunLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rough edges of issue 15 §7, each as a user hit it. */
class ReportRoughEdgesTest {
    @TempDir
    Path dir;

    private static Chart chart(List<Chart> charts, String id) {
        return charts.stream()
                .filter(c -> c.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no chart " + id));
    }

    /**
     * A one-point PNG chart is not blank: XChart draws the marker in the series colour, in the SVG and
     * at the same place (2x) in the PNG. The legend shows a marker too, so a one-point chart has two.
     */
    @Test
    void singlePointsAreDrawnInBothRenderers() throws Exception {
        Chart c = Chart.lines(
                "one",
                "one point",
                "step",
                Chart.Axis.COUNT,
                "test accuracy",
                Chart.Axis.FRACTION,
                List.of(new Series("run", new double[] {30}, new double[] {0.8})));
        String svg = ChartRenderer.svg(c);
        List<double[]> markers = markers(svg, "rgb(31,119,180)");
        assertEquals(2, markers.size(), "the point and its legend entry: " + svg);
        Path png = dir.resolve("one.png");
        ChartRenderer.png(c, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(2 * ChartRenderer.WIDTH, img.getWidth());
        for (double[] m : markers) {
            int x = (int) Math.round(m[0] * 2), y = (int) Math.round(m[1] * 2); // PNGs are drawn at 2x
            assertEquals(0x1f77b4, img.getRGB(x, y) & 0xFFFFFF, "the marker's centre has the series colour");
        }
        // Short series get markers on every point (plus the legend's); long ones are lines only.
        Series shortSeries = new Series("s", new double[] {1, 2, 3}, new double[] {1, 2, 3});
        assertEquals(
                4,
                markers(ChartRenderer.svg(Chart.lines("s", "s", "x", "y", List.of(shortSeries))), "rgb(31,119,180)")
                        .size());
        double[] xs = new double[100];
        for (int i = 0; i < xs.length; i++) xs[i] = i;
        String line = ChartRenderer.svg(Chart.lines("l", "l", "x", "y", List.of(new Series("l", xs, xs))));
        assertEquals(0, markers(line, "rgb(31,119,180)").size());
        assertTrue(line.contains("stroke:rgb(31,119,180)"), "the line is drawn");
    }

    /** The case: one evaluation at step 30 gave a 30–31 axis with ticks at 30.2, 30.4 and accuracy from −0.6 to 0.6. */
    @Test
    void axesSuitTheData() {
        Chart c = Chart.lines(
                "a",
                "a",
                "step",
                Chart.Axis.COUNT,
                "test accuracy",
                Chart.Axis.FRACTION,
                List.of(new Series("run", new double[] {30}, new double[] {0.1})));
        ChartAxes l = new ChartAxes(c);
        assertEquals(0, l.xMin);
        assertEquals(30, l.xMax);
        assertTrue(l.yMin >= 0 && l.yMax <= 1, l.yMin + ".." + l.yMax);
        assertTrue(l.yMin < 0.1 && l.yMax > 0.1, "the point is inside, not on an edge");
        // XChart draws with these ranges.
        var styler = ChartRenderer.lines(c).getStyler();
        assertEquals(l.yMin, styler.getYAxisMin());
        assertEquals(l.yMax, styler.getYAxisMax());
        assertEquals(0.0, styler.getXAxisMin());
        // Steps: whole-number labels only, wherever XChart puts a tick.
        assertEquals("30", l.xLabel(30));
        assertEquals("", l.xLabel(30.2));
        assertEquals("", l.xLabel(0.5));
        assertEquals("", styler.getxAxisTickLabelsFormattingFunction().apply(2.5));
        // Accuracy at 1.0 and a curve near 1: never above 1.
        ChartAxes top = new ChartAxes(Chart.lines(
                "u",
                "u",
                "step",
                Chart.Axis.COUNT,
                "acc",
                Chart.Axis.FRACTION,
                List.of(new Series("r", new double[] {1, 2}, new double[] {0.97, 1.0}))));
        assertEquals(1.0, top.yMax);
        // Zero-based axes (ε, throughput) start at 0.
        assertEquals(
                0,
                new ChartAxes(Chart.lines(
                                "e",
                                "e",
                                "ε",
                                Chart.Axis.FROM_ZERO,
                                "acc",
                                Chart.Axis.FRACTION,
                                List.of(new Series("r", new double[] {2.5, 3}, new double[] {0.5, 0.6}))))
                        .xMin);
        // Ends on round numbers: one bar of 1082 ex/s gave XChart's data-value ticks 0 and 1082 only.
        assertArrayEquals(new double[] {0, 1200}, ChartAxes.range(Chart.Axis.FROM_ZERO, 1082, 1082));
        assertArrayEquals(new double[] {0, 3.5}, ChartAxes.range(Chart.Axis.FROM_ZERO, 3.27, 3.27));
        assertArrayEquals(new double[] {0, 30}, ChartAxes.range(Chart.Axis.COUNT, 30, 30));
        assertArrayEquals(new double[] {0, 3}, ChartAxes.range(Chart.Axis.COUNT, 1, 3), "whole steps");
        // A sweep's categories: one label per value, nothing between them.
        ChartAxes cat = new ChartAxes(Chart.overCategories(
                "c",
                "c",
                "micro_batch_size",
                List.of("1", "2", "4"),
                "ex/s",
                Chart.Axis.FROM_ZERO,
                List.of(new Series("r", new double[] {0, 1, 2}, new double[] {1, 2, 3}))));
        assertEquals(
                List.of("1", "2", "4", "", ""),
                List.of(cat.xLabel(0), cat.xLabel(1), cat.xLabel(2), cat.xLabel(1.5), cat.xLabel(3)));
    }

    @Test
    void sameExperimentPairsByBackendAndDeviceAndSaysWhenThereIsNothingToCompare() {
        RunSummary a = RunLoader.fromRunDir(HtmlReportTest.fakeRun(dir, "a", "djl", 0.1, 100, 0.5));
        RunSummary b = RunLoader.fromRunDir(HtmlReportTest.fakeRun(dir, "b", "djl", 0.1, 120, 0.5));
        String none = HtmlReport.sideBySide(List.of(a, b));
        assertTrue(none.contains("Nothing to compare"), none);
        assertFalse(none.contains("<table"), none);
        RunSummary c = RunLoader.fromRunDir(HtmlReportTest.fakeRun(dir, "c", "ipu", 0.1, 5900, 0.5));
        String pair = HtmlReport.sideBySide(List.of(a, b, c));
        assertTrue(
                pair.contains("<th title=\"" + a.source() + "\">djl cpu</th><th title=\"" + c.source()
                        + "\">ipu ipu x16</th></tr>"),
                pair);
        assertFalse(pair.contains(">b<"), "the second djl/cpu run is not a column: " + pair);
    }

    /** A run whose process died shows as interrupted with the steps and ε its metrics reached; one still training shows running. */
    @Test
    void aKilledRunIsInterruptedWithItsStepsAndEpsilon() {
        Path run = runFolder("killed", "running", true);
        RunSummary r = RunLoader.fromRunDir(run);
        assertEquals("interrupted", r.status());
        assertEquals(14, r.steps());
        assertEquals(0.98, r.epsilon(), 1e-12);
        assertEquals(0.6, r.testAccuracy(), 1e-12);
        try (RunLock lock = RunLock.acquire(run)) {
            RunSummary live = RunLoader.fromRunDir(run);
            assertEquals("running", live.status());
            assertEquals(14, live.steps());
        }
        assertEquals(
                "interrupted",
                RunLoader.fromRunDir(runFolder("starting", "starting", true)).status());
        assertEquals(
                "finished",
                RunLoader.fromRunDir(HtmlReportTest.fakeRun(dir, "done", "djl", 0.1, 1, 0.5))
                        .status());
    }

    /** Under the default diagnostics policy train records hold only step, ε, lr, time and steps/s: the report copes. */
    @Test
    void trainRecordsWithoutTrainingSetMetricsFallBackToTheTestSet() throws Exception {
        Path run = runFolder("private-diag", "finished", false);
        RunSummary r = RunLoader.fromRunDir(run);
        List<Chart> charts = HtmlReport.charts(List.of(r));
        List<String> ids = charts.stream().map(Chart::id).toList();
        assertFalse(ids.contains("train-accuracy-vs-step"), ids.toString());
        assertFalse(ids.contains("loss-vs-step") || ids.contains("loss-vs-epsilon"), "no training-loss charts: " + ids);
        assertEquals("Test loss", chart(charts, "test-loss-vs-step").title());
        assertEquals(2, chart(charts, "test-loss-vs-step").series().get(0).finitePoints());
        assertFalse(chart(charts, "test-loss-vs-epsilon").isEmpty());
        assertFalse(chart(charts, "epsilon-vs-step").isEmpty());
        assertTrue(HtmlReport.diagnosticsNote(List.of(r)).contains("not released"));
        assertEquals(320.0, r.examplesPerSecond(), "the expected throughput stands in for the measured one");
        assertEquals(
                List.of(new Chart.Bar("djl cpu", 320.0)),
                chart(charts, "throughput").bars());
        List<Path> pngs = HtmlReport.write(List.of(r), dir.resolve("r.html"));
        assertEquals(charts.size(), pngs.size());
    }

    @Test
    void rawDiagnosticsMarkTrainingSetChartsNotCoveredByEpsilon() {
        Path run = dir.resolve("raw");
        RunDirectory rd = RunDirectory.create(run);
        rd.writeRunInfo(Map.of("name", "raw", "status", "finished", "backend", "djl", "device", "cpu"));
        for (int s = 1; s <= 3; s++) {
            rd.metrics()
                    .append(Map.of(
                            "kind",
                            "train",
                            "step",
                            s,
                            "loss",
                            1.0 / s,
                            "accuracy",
                            0.3,
                            "epsilon",
                            0.1 * s,
                            "diagnostics",
                            "raw"));
        }
        rd.metrics().close();
        RunSummary r = RunLoader.fromRunDir(run);
        assertTrue(r.rawDiagnostics());
        List<Chart> charts = HtmlReport.charts(List.of(r));
        assertEquals(
                "Training loss (not covered by ε)",
                chart(charts, "loss-vs-step").title());
        assertEquals(
                "Training accuracy (batch) (not covered by ε)",
                chart(charts, "train-accuracy-vs-step").title());
        String html = HtmlReport.html(List.of(r), charts);
        assertTrue(html.contains("raw diagnostics (not covered by ε)") && html.contains("NOT covered by ε"), html);
    }

    /** The NanoBatch sweep: throughput against micro-batch size, one line per device, runs named by their swept values. */
    @Test
    void aSweepIsChartedAgainstItsSweptKeyPerDevice() throws Exception {
        List<RunSummary> runs = new ArrayList<>();
        for (String hw : List.of("djl", "ipu")) {
            Path sweep = dir.resolve("sweep-" + hw);
            Files.createDirectories(sweep);
            // training.steps is a fixed override (one value): listed in the CSV, but not part of the runs' names.
            StringBuilder csv = new StringBuilder(
                    "training.micro_batch_size,training.steps,status,test_accuracy,epsilon,examples_per_s,seconds,steps,run_dir\n");
            for (int m : new int[] {1, 2, 4, 8, 16}) {
                String name = String.format(
                        "%03d_micro_batch_size-%d_%s", m, m, "x".repeat(120)); // long folder names, as sweeps make
                HtmlReportTest.fakeRun(sweep, name, hw, 0.1, (hw.equals("ipu") ? 1000 : 100) * Math.log(2 * m), 0.5);
                csv.append(m)
                        .append(",20,finished,0.5,1.5,1,1,20,")
                        .append(name)
                        .append('\n');
            }
            Files.writeString(sweep.resolve("sweep.csv"), csv.toString());
            runs.addAll(RunLoader.load(sweep));
        }
        assertEquals("micro_batch_size=4", runs.get(2).label());
        assertEquals(Map.of("training.micro_batch_size", "4"), runs.get(2).swept());
        List<Chart> charts = HtmlReport.charts(HtmlReport.distinctLabels(runs));
        Chart t = chart(charts, "sweep-micro_batch_size-throughput");
        assertEquals("Examples / s against micro_batch_size", t.title());
        assertEquals(List.of("1", "2", "4", "8", "16"), t.xCategories(), "numeric order, not 1, 16, 2, ...");
        assertEquals(
                List.of("djl cpu", "ipu ipu x16"),
                t.series().stream().map(Series::name).toList());
        assertEquals(1000 * Math.log(8), t.series().get(1).y()[2], 1e-9);
        assertEquals(
                Chart.Axis.FRACTION,
                chart(charts, "sweep-micro_batch_size-accuracy").yAxis());
        List<String> labels =
                HtmlReport.distinctLabels(runs).stream().map(RunSummary::label).toList();
        assertEquals("micro_batch_size=4 (djl cpu)", labels.get(2));
        assertEquals(labels.size(), labels.stream().distinct().count());
        for (String l : labels) assertTrue(l.length() < 40, l);
    }

    /** An IPU run that used precision=fp16 and a DJL run that ignored it: equal values, different effect, marked. */
    @Test
    void settingsTheBackendIgnoredAreMarkedInTheConfigDiff() throws Exception {
        RunSummary ipu = RunLoader.fromRunDir(withPrecision("ipu-run", "ipu", false));
        RunSummary djl = RunLoader.fromRunDir(withPrecision("djl-run", "djl", true));
        assertEquals(java.util.Set.of("backend.settings.precision"), djl.ignoredSettings());
        assertTrue(ipu.ignoredSettings().isEmpty());
        String diff = HtmlReport.configDiff(List.of(ipu, djl));
        assertTrue(
                diff.contains("<tr><td class=\"k\">backend.settings.precision</td><td>fp16</td><td class=\"ignored\""),
                diff);
        assertTrue(diff.contains("<s>fp16</s> (ignored by djl)"), diff);
        // Both ignored it: not a difference between them.
        RunSummary djl2 = RunLoader.fromRunDir(withPrecision("djl-run-2", "djl", true));
        assertFalse(HtmlReport.configDiff(List.of(djl, djl2)).contains("precision"));
    }

    private Path withPrecision(String name, String backend, boolean ignored) {
        RunDirectory rd = RunDirectory.create(dir.resolve(name));
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("name", name);
        info.put("status", "finished");
        info.put("backend", backend);
        info.put("device", "cpu");
        info.put(
                "config",
                Map.of("name", "exp", "backend", Map.of("name", backend, "settings", Map.of("precision", "fp16"))));
        if (ignored) info.put("backend_settings_ignored", List.of("precision"));
        rd.writeRunInfo(info);
        rd.metrics().close();
        return rd.root();
    }

    @Test
    void longFolderNamesAreShortenedInTables() {
        assertEquals(40, HtmlReport.shortLabel("y".repeat(150)).length());
        assertEquals("short", HtmlReport.shortLabel("short"));
    }

    /** A run folder with train records that carry only what the default diagnostics policy releases, and two evaluations. */
    private Path runFolder(String name, String status, boolean unfinished) {
        RunDirectory rd = RunDirectory.create(dir.resolve(name));
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("name", name);
        info.put("status", status);
        info.put("backend", "djl");
        info.put("device", "cpu");
        info.put("delta", 1e-5);
        if (!unfinished)
            info.put(
                    "final",
                    Map.of(
                            "step",
                            14,
                            "epsilon",
                            0.98,
                            "test_accuracy",
                            0.6,
                            "seconds",
                            3.0,
                            "expected_examples_per_s",
                            320.0));
        rd.writeRunInfo(info);
        for (int s = 2; s <= 14; s += 2) {
            rd.metrics()
                    .append(Map.of(
                            "kind",
                            "train",
                            "step",
                            s,
                            "epsilon",
                            0.07 * s,
                            "lr",
                            0.1,
                            "time",
                            0.2 * s,
                            "steps_per_s",
                            5.0));
            if (s == 6 || s == 12)
                rd.metrics()
                        .append(Map.of(
                                "kind",
                                "eval",
                                "step",
                                s,
                                "epsilon",
                                0.07 * s,
                                "test_accuracy",
                                s / 20.0,
                                "test_loss",
                                2.0 - s / 10.0));
        }
        rd.metrics().close();
        return rd.root();
    }

    /** Centres of the SVG's circle markers (XChart draws them as ellipses) filled with {@code rgb}. */
    private static List<double[]> markers(String svg, String rgb) {
        List<double[]> out = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("<ellipse cx=\"([-0-9.]+)\" cy=\"([-0-9.]+)\"[^>]*fill:"
                        + java.util.regex.Pattern.quote(rgb) + "[;\"]")
                .matcher(svg);
        while (m.find()) out.add(new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))});
        return out;
    }
}
