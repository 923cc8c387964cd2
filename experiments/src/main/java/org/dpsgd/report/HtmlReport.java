package org.dpsgd.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The compare report: one self-contained HTML page (inline CSS and SVG; no scripts, fonts or
 * external links, so it works offline and as well-formed XHTML) plus each chart as a PNG next to it.
 */
public final class HtmlReport {
    private static final String CSS =
            "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 20px}"
                    + "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px;white-space:nowrap}th{background:#f3f3f3}td.k,th.k{text-align:left}"
                    + "svg.chart{border:1px solid #ddd;margin:6px}.title{font-size:13px;font-weight:bold}.tick{font-size:10px;fill:#444}"
                    + ".label{font-size:12px}.legend{font-size:11px}.note{color:#666;font-size:12px}td.ignored{color:#999}";

    private HtmlReport() {}

    /** Writes {@code out} and the PNG charts beside it; returns the PNG files. */
    public static List<Path> write(List<RunSummary> loaded, Path out) {
        if (loaded.isEmpty()) throw new IllegalArgumentException("no runs to compare");
        List<RunSummary> runs = distinctLabels(loaded);
        List<Chart> charts = charts(runs);
        String html = html(runs, charts);
        List<Path> pngs = new ArrayList<>();
        try {
            Path dir = out.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Files.writeString(out, html, StandardCharsets.UTF_8);
            String base = out.getFileName().toString().replaceFirst("\\.x?html?$", "");
            for (Chart c : charts) {
                Path png = dir.resolve(base + "-" + c.id() + ".png");
                ChartRenderer.png(c, png);
                pngs.add(png);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
        return pngs;
    }

    /** Two sweeps of one grid (e.g. on two devices) give equal labels: tell them apart by hardware, then by number. */
    static List<RunSummary> distinctLabels(List<RunSummary> runs) {
        Map<String, Long> count = new HashMap<>();
        for (RunSummary r : runs) count.merge(r.label(), 1L, Long::sum);
        List<RunSummary> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (RunSummary r : runs) {
            String label = r.label();
            if (count.get(label) > 1) label = label + " (" + r.hardware() + ")";
            int n = seen.merge(label, 1, Integer::sum);
            if (n > 1) label = label + " #" + n;
            out.add(label.equals(r.label()) ? r : r.inSweep(label, r.swept()));
        }
        return out;
    }

    static List<Chart> charts(List<RunSummary> runs) {
        List<Chart> out = new ArrayList<>();
        boolean trainLoss = any(runs, RunSummary.Curves::loss);
        boolean trainAccuracy = any(runs, RunSummary.Curves::accuracy);
        // Training-set metrics exist only when a run released them raw (outside the DP mechanism): say so on the chart.
        String raw = runs.stream().anyMatch(RunSummary::rawDiagnostics) ? " (not covered by ε)" : "";
        Chart.Axis step = Chart.Axis.COUNT;
        if (trainLoss) {
            out.add(Chart.lines(
                    "loss-vs-step",
                    "Training loss" + raw,
                    "step",
                    step,
                    "loss",
                    Chart.Axis.FROM_ZERO,
                    series(runs, c -> c.step(), c -> c.loss())));
        }
        out.add(Chart.lines(
                "test-loss-vs-step",
                "Test loss",
                "step",
                step,
                "test loss",
                Chart.Axis.FROM_ZERO,
                series(runs, c -> c.evalStep(), c -> c.testLoss())));
        out.add(Chart.lines(
                "accuracy-vs-step",
                "Test accuracy",
                "step",
                step,
                "test accuracy",
                Chart.Axis.FRACTION,
                series(runs, c -> c.evalStep(), c -> c.testAccuracy())));
        if (trainAccuracy) {
            out.add(Chart.lines(
                    "train-accuracy-vs-step",
                    "Training accuracy (batch)" + raw,
                    "step",
                    step,
                    "accuracy",
                    Chart.Axis.FRACTION,
                    series(runs, c -> c.step(), c -> c.accuracy())));
        }
        // ε axes follow the data: a run's ε starts well above 0 after its first step.
        out.add(Chart.lines(
                "accuracy-vs-epsilon",
                "Test accuracy against privacy spent",
                "ε",
                Chart.Axis.VALUE,
                "test accuracy",
                Chart.Axis.FRACTION,
                series(runs, c -> c.evalEpsilon(), c -> c.testAccuracy())));
        if (trainLoss) {
            out.add(Chart.lines(
                    "loss-vs-epsilon",
                    "Training loss against privacy spent" + raw,
                    "ε",
                    Chart.Axis.VALUE,
                    "loss",
                    Chart.Axis.FROM_ZERO,
                    series(runs, c -> c.epsilon(), c -> c.loss())));
        }
        out.add(Chart.lines(
                "test-loss-vs-epsilon",
                "Test loss against privacy spent",
                "ε",
                Chart.Axis.VALUE,
                "test loss",
                Chart.Axis.FROM_ZERO,
                series(runs, c -> c.evalEpsilon(), c -> c.testLoss())));
        out.add(Chart.lines(
                "epsilon-vs-step",
                "Privacy spent",
                "step",
                step,
                "ε",
                Chart.Axis.FROM_ZERO,
                series(runs, c -> c.step(), c -> c.epsilon())));
        List<RunSummary> audited = runs.stream()
                .filter(r -> Double.isFinite(r.epsilonLower()) && Double.isFinite(r.epsilon()))
                .toList();
        if (!audited.isEmpty()) {
            // The audit's picture: each run's audited lower bound against the ε it reports; an honest run sits below y
            // = x.
            List<Series> points = new ArrayList<>();
            for (RunSummary r : audited)
                points.add(new Series(r.label(), new double[] {r.epsilon()}, new double[] {r.epsilonLower()}));
            double top = audited.stream().mapToDouble(RunSummary::epsilon).max().orElse(1);
            points.add(new Series("ε_lower = ε", new double[] {0, top}, new double[] {0, top}));
            out.add(Chart.lines(
                    "audit-epsilon-lower",
                    "Audited lower bound against reported ε",
                    "reported ε",
                    Chart.Axis.FROM_ZERO,
                    "audited ε_lower",
                    Chart.Axis.FROM_ZERO,
                    points));
        }
        Map<String, double[]> perBackend = new LinkedHashMap<>();
        for (RunSummary r : runs) {
            if (!Double.isFinite(r.examplesPerSecond())) continue;
            double[] acc = perBackend.computeIfAbsent(r.hardware(), k -> new double[2]);
            acc[0] += r.examplesPerSecond();
            acc[1]++;
        }
        List<Chart.Bar> bars = new ArrayList<>();
        perBackend.forEach((k, v) -> bars.add(new Chart.Bar(k, v[0] / v[1])));
        if (!bars.isEmpty())
            out.add(Chart.bars("throughput", "Throughput per backend (mean over runs)", "examples / s", bars));
        out.addAll(SweepCharts.charts(runs));
        out.removeIf(Chart::isEmpty);
        return out;
    }

    private static boolean any(List<RunSummary> runs, Function<RunSummary.Curves, double[]> f) {
        for (RunSummary r : runs) for (double v : f.apply(r.curves())) if (Double.isFinite(v)) return true;
        return false;
    }

    private static List<Series> series(
            List<RunSummary> runs, Function<RunSummary.Curves, double[]> x, Function<RunSummary.Curves, double[]> y) {
        List<Series> s = new ArrayList<>();
        for (RunSummary r : runs) s.add(new Series(r.label(), x.apply(r.curves()), y.apply(r.curves())));
        return s;
    }

    static String html(List<RunSummary> runs, List<Chart> charts) {
        StringBuilder sb = new StringBuilder();
        sb.append(
                        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>dpsgd compare</title><style>")
                .append(CSS)
                .append("</style></head><body>\n");
        sb.append("<h1>dpsgd: comparison of ")
                .append(runs.size())
                .append(" run")
                .append(runs.size() == 1 ? "" : "s")
                .append("</h1>\n");
        sb.append("<p class=\"note\">Generated ")
                .append(Html.text(Instant.now().toString()))
                .append(". ε is at each run's δ. ")
                .append(Html.text(diagnosticsNote(runs)))
                .append("</p>\n");
        sb.append("<h2>Runs</h2>\n").append(runsTable(runs));
        if (runs.size() > 1) sb.append(sideBySide(runs));
        sb.append(configDiff(runs));
        sb.append("<h2>Charts</h2>\n<div>");
        for (Chart c : charts) sb.append(ChartRenderer.svg(c)).append('\n');
        sb.append("</div>\n</body></html>\n");
        return sb.toString();
    }

    private static String runsTable(List<RunSummary> runs) {
        StringBuilder sb = new StringBuilder(
                "<table class=\"runs\"><tr><th class=\"k\">run</th><th class=\"k\">backend</th><th class=\"k\">device</th>"
                        + "<th class=\"k\">model</th><th>batch plan (micro × accum × replicas)</th><th>ε</th><th title=\"one-run audit lower bound (dpsgd audit)\">audited ε_lower</th><th>δ</th><th>test accuracy</th>"
                        + "<th>examples/s</th><th>time (s)</th><th>steps</th><th class=\"k\">status</th></tr>\n");
        for (RunSummary r : runs) {
            sb.append("<tr><td class=\"k\" title=\"")
                    .append(Html.attr(r.source()))
                    .append("\">")
                    .append(Html.text(shortLabel(r.label())))
                    .append("</td>")
                    .append(k(r.backend()))
                    .append(k(r.device()))
                    .append(k(r.model()))
                    .append(td(r.batchPlan()))
                    .append(td(eps(r)))
                    .append(td(fmt(r.epsilonLower(), "%.3f")))
                    .append(td(fmt(r.delta(), "%.1e")))
                    .append(td(pct(r.testAccuracy())))
                    .append(td(fmt(r.examplesPerSecond(), "%.1f")))
                    .append(td(fmt(r.seconds(), "%.1f")))
                    .append(td(Long.toString(r.steps())))
                    .append(k(r.status() + (r.rawDiagnostics() ? " · raw diagnostics (not covered by ε)" : "")))
                    .append("</tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    /**
     * Runs of the same experiment (config equal up to backend.*) on different backends or devices, in
     * adjacent columns; runs on the same hardware are not a comparison of backends and are left out.
     */
    static String sideBySide(List<RunSummary> runs) {
        Map<Map<String, String>, List<RunSummary>> groups = new LinkedHashMap<>();
        for (RunSummary r : runs)
            if (!r.config().isEmpty())
                groups.computeIfAbsent(r.experimentKey(), k -> new ArrayList<>())
                        .add(r);
        StringBuilder sb = new StringBuilder("<h2>Same experiment, different backends</h2>\n");
        int shown = 0;
        for (List<RunSummary> g : groups.values()) {
            // One column per backend and device (the first run of each), so two djl/cpu runs are not "paired".
            Map<String, RunSummary> perHardware = new LinkedHashMap<>();
            for (RunSummary r : g) perHardware.putIfAbsent(r.hardware(), r);
            if (perHardware.size() < 2) continue;
            List<RunSummary> cols = new ArrayList<>(perHardware.values());
            shown++;
            String name = g.get(0).config().getOrDefault("name", "experiment");
            sb.append("<h3>").append(Html.text(name)).append("</h3>\n<table class=\"same\"><tr><th class=\"k\"></th>");
            for (RunSummary r : cols)
                sb.append("<th title=\"")
                        .append(Html.attr(r.source()))
                        .append("\">")
                        .append(Html.text(r.hardware()))
                        .append("</th>");
            sb.append("</tr>\n");
            row(sb, "run", cols, r -> shortLabel(r.label()));
            row(sb, "batch plan", cols, RunSummary::batchPlan);
            row(sb, "ε", cols, HtmlReport::eps);
            row(sb, "test accuracy", cols, r -> pct(r.testAccuracy()));
            row(sb, "examples/s", cols, r -> fmt(r.examplesPerSecond(), "%.1f"));
            row(sb, "time (s)", cols, r -> fmt(r.seconds(), "%.1f"));
            row(sb, "status", cols, RunSummary::status);
            sb.append("</table>\n");
        }
        if (shown == 0) {
            sb.append(
                    "<p class=\"note\">Nothing to compare: no experiment (the same config up to backend.*) was run on more than one "
                            + "backend or device.</p>\n");
        }
        return sb.toString();
    }

    /** What the training-set charts are, given the runs' diagnostics policies. */
    static String diagnosticsNote(List<RunSummary> runs) {
        if (runs.stream().anyMatch(RunSummary::rawDiagnostics)) {
            return "Some runs released training-set diagnostics raw (loss and accuracy on private batches): those numbers and charts are "
                    + "NOT covered by ε.";
        }
        if (!any(runs, RunSummary.Curves::loss)) {
            return "Training-set loss and accuracy were not released (they are not covered by ε); the charts use the test set.";
        }
        return "Training loss and accuracy are measured on private batches and are diagnostics only.";
    }

    /**
     * Keys whose values differ between runs (a missing key shows as "—"). A value the run's backend
     * ignored (run.json's backend_settings_ignored) is struck through and marked "ignored by" that
     * backend, and counts as different from a value that was used: a DJL run of an IPU config does
     * not run in fp16 because its config says so.
     */
    static String configDiff(List<RunSummary> runs) {
        if (runs.size() < 2) return "";
        TreeSet<String> keys = new TreeSet<>();
        for (RunSummary r : runs) keys.addAll(r.config().keySet());
        List<String> differing = new ArrayList<>();
        for (String key : keys) {
            String first = effective(runs.get(0), key);
            for (RunSummary r : runs) {
                if (!Objects.equals(first, effective(r, key))) {
                    differing.add(key);
                    break;
                }
            }
        }
        StringBuilder sb = new StringBuilder("<h2>Config differences</h2>\n");
        if (differing.isEmpty())
            return sb.append("<p>All runs have the same configuration.</p>\n").toString();
        sb.append("<table class=\"diff\"><tr><th class=\"k\">key</th>");
        for (RunSummary r : runs)
            sb.append("<th title=\"")
                    .append(Html.attr(r.source()))
                    .append("\">")
                    .append(Html.text(shortLabel(r.label())))
                    .append("</th>");
        sb.append("</tr>\n");
        boolean anyIgnored = false;
        for (String key : differing) {
            sb.append("<tr><td class=\"k\">").append(Html.text(key)).append("</td>");
            for (RunSummary r : runs) {
                String v = r.config().getOrDefault(key, "—");
                if (r.ignoredSettings().contains(key)) {
                    anyIgnored = true;
                    String by = r.backend().isEmpty() ? "the backend" : r.backend();
                    sb.append("<td class=\"ignored\" title=\"")
                            .append(Html.attr("the " + by + " backend did not use this setting"))
                            .append("\"><s>")
                            .append(Html.text(v))
                            .append("</s> (ignored by ")
                            .append(Html.text(by))
                            .append(")</td>");
                } else {
                    sb.append(td(v));
                }
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n");
        if (anyIgnored)
            sb.append("<p class=\"note\">Struck-through settings were ignored by that run's backend (run.json: "
                    + "backend_settings_ignored); they did not affect the run.</p>\n");
        return sb.toString();
    }

    /** The value a key had in effect: an ignored setting had none. */
    private static String effective(RunSummary r, String key) {
        return r.ignoredSettings().contains(key) ? "\u0000ignored" : r.config().get(key);
    }

    private static void row(StringBuilder sb, String key, List<RunSummary> runs, Function<RunSummary, String> f) {
        sb.append("<tr><td class=\"k\">").append(Html.text(key)).append("</td>");
        for (RunSummary r : runs) sb.append(td(f.apply(r)));
        sb.append("</tr>\n");
    }

    /** Folder names can be 150 characters long: the tables show 40 (the full path is the cell's tooltip). */
    static String shortLabel(String label) {
        return label.length() <= 40 ? label : label.substring(0, 39) + "…";
    }

    private static String td(String s) {
        return "<td>" + Html.text(s) + "</td>";
    }

    private static String k(String s) {
        return "<td class=\"k\">" + Html.text(s) + "</td>";
    }

    private static String fmt(double v, String f) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, f, v) : "—";
    }

    /** ε, flagged when the run's settings (insecure noise, shuffling) void the guarantee. */
    static String eps(RunSummary r) {
        String e = fmt(r.epsilon(), "%.3f");
        return r.epsilonHolds() || e.equals("—") ? e : e + " (not a guarantee)";
    }

    private static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : "—";
    }
}
