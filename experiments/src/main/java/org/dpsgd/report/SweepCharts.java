package org.dpsgd.report;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What a sweep was for: each swept key on the x axis (its values in order, evenly spaced), one
 * series per backend and device (and strategy, privacy on/off, and the other swept keys' values),
 * for throughput, test accuracy and ε. The seed papers' pictures: throughput against micro-batch
 * size per device (NanoBatch), accuracy and ε against logical batch size (Kurakin et al.).
 */
final class SweepCharts {
    private SweepCharts() {}

    private record Metric(String id, String name, Chart.Axis axis, ToDoubleFunction<RunSummary> value) {}

    private static final List<Metric> METRICS = List.of(
            new Metric("throughput", "examples / s", Chart.Axis.FROM_ZERO, RunSummary::examplesPerSecond),
            new Metric("accuracy", "test accuracy", Chart.Axis.FRACTION, RunSummary::testAccuracy),
            new Metric("epsilon", "ε", Chart.Axis.FROM_ZERO, RunSummary::epsilon));

    static List<Chart> charts(List<RunSummary> runs) {
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        for (RunSummary r : runs) keys.addAll(r.swept().keySet());
        List<Chart> out = new ArrayList<>();
        for (String key : keys) {
            List<RunSummary> in =
                    runs.stream().filter(r -> r.swept().containsKey(key)).toList();
            List<String> values =
                    ordered(in.stream().map(r -> r.swept().get(key)).toList());
            if (values.size() < 2) continue; // one value: nothing varies along this axis
            String shortKey = shortKey(key, keys);
            for (Metric m : METRICS) {
                Map<String, double[][]> perSeries = new LinkedHashMap<>(); // series -> [sum, count] per x
                for (RunSummary r : in) {
                    double v = m.value().applyAsDouble(r);
                    if (!Double.isFinite(v)) continue;
                    double[][] acc =
                            perSeries.computeIfAbsent(seriesName(r, key, keys), k -> new double[values.size()][2]);
                    int x = values.indexOf(r.swept().get(key));
                    acc[x][0] += v;
                    acc[x][1]++;
                }
                if (perSeries.isEmpty()) continue;
                List<Series> series = new ArrayList<>();
                perSeries.forEach((name, acc) -> {
                    double[] xs = new double[values.size()];
                    double[] ys = new double[values.size()];
                    for (int i = 0; i < xs.length; i++) {
                        xs[i] = i;
                        ys[i] = acc[i][1] > 0
                                ? acc[i][0] / acc[i][1]
                                : Double.NaN; // repeated points (seeds): their mean
                    }
                    series.add(new Series(name, xs, ys));
                });
                String title = capitalise(m.name()) + " against " + shortKey;
                out.add(Chart.overCategories(
                        "sweep-" + shortKey.replaceAll("[^A-Za-z0-9_-]", "_") + "-" + m.id(),
                        title,
                        key,
                        values,
                        m.name(),
                        m.axis(),
                        series));
            }
        }
        return out;
    }

    /** Where and how the run ran, plus the other swept keys' values: one line per such combination. */
    static String seriesName(RunSummary r, String xKey, Collection<String> sweptKeys) {
        StringBuilder sb = new StringBuilder(r.hardware());
        String strategy = r.config().get("backend.strategy");
        if (strategy != null && !strategy.isEmpty() && !strategy.equals("auto") && !xKey.equals("backend.strategy"))
            sb.append(' ').append(strategy);
        if ("false".equals(r.config().get("privacy.enabled")) && !xKey.equals("privacy.enabled"))
            sb.append(" non-private");
        for (Map.Entry<String, String> e : r.swept().entrySet()) {
            if (!e.getKey().equals(xKey))
                sb.append(' ')
                        .append(shortKey(e.getKey(), sweptKeys))
                        .append('=')
                        .append(e.getValue());
        }
        return sb.toString();
    }

    /** Numeric values in numeric order, otherwise the order first seen; duplicates once. */
    static List<String> ordered(List<String> values) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(values));
        boolean numeric = distinct.stream().allMatch(SweepCharts::isNumber);
        if (numeric) distinct.sort((a, b) -> Double.compare(Double.parseDouble(a), Double.parseDouble(b)));
        return distinct;
    }

    /** The last part of a dotted key, unless another swept key ends the same way. */
    static String shortKey(String key, Collection<String> all) {
        String last = key.substring(key.lastIndexOf('.') + 1);
        long same = all.stream()
                .filter(k -> k.substring(k.lastIndexOf('.') + 1).equals(last))
                .count();
        return same > 1 ? key : last;
    }

    private static boolean isNumber(String s) {
        try {
            return Double.isFinite(Double.parseDouble(s.trim()));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String capitalise(String s) {
        return s.isEmpty() || s.equals("ε") ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
