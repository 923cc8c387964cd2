package org.dpsgd.report;

import java.util.List;

/**
 * A chart, independent of how it is drawn (inline SVG for the HTML page, PNG for papers).
 * A line chart has series; a bar chart has one value per category (bars). The axes' kinds say
 * what the data is, so ranges and ticks suit it (integer steps, accuracy within [0, 1]).
 * With {@code xCategories}, x values are indices into them (a sweep's values, evenly spaced).
 */
public record Chart(
        String id,
        String title,
        String xLabel,
        String yLabel,
        List<Series> series,
        List<Bar> bars,
        Axis xAxis,
        Axis yAxis,
        List<String> xCategories) {
    public record Bar(String label, double value) {}

    /** What an axis shows; decides its range and ticks. */
    public enum Axis {
        /** Any real value; the range follows the data. */
        VALUE,
        /** Counts such as steps: from 0, integer ticks. */
        COUNT,
        /** Non-negative reals such as ε or examples/s: from 0. */
        FROM_ZERO,
        /** A fraction such as accuracy: never outside [0, 1]. */
        FRACTION,
        /** Named positions 0..k-1 (x only). */
        CATEGORY
    }

    public Chart {
        series = series == null ? List.of() : List.copyOf(series);
        bars = bars == null ? List.of() : List.copyOf(bars);
        xCategories = xCategories == null ? List.of() : List.copyOf(xCategories);
        if (xAxis == null) xAxis = xCategories.isEmpty() ? Axis.VALUE : Axis.CATEGORY;
        if (yAxis == null) yAxis = Axis.VALUE;
    }

    public static Chart lines(String id, String title, String xLabel, String yLabel, List<Series> series) {
        return new Chart(id, title, xLabel, yLabel, series, null, Axis.VALUE, Axis.VALUE, null);
    }

    public static Chart lines(
            String id, String title, String xLabel, Axis xAxis, String yLabel, Axis yAxis, List<Series> series) {
        return new Chart(id, title, xLabel, yLabel, series, null, xAxis, yAxis, null);
    }

    /** A line chart over named x positions (series x values are indices into {@code categories}). */
    public static Chart overCategories(
            String id,
            String title,
            String xLabel,
            List<String> categories,
            String yLabel,
            Axis yAxis,
            List<Series> series) {
        return new Chart(id, title, xLabel, yLabel, series, null, Axis.CATEGORY, yAxis, categories);
    }

    public static Chart bars(String id, String title, String yLabel, List<Bar> bars) {
        return new Chart(id, title, "", yLabel, null, bars, Axis.CATEGORY, Axis.FROM_ZERO, null);
    }

    public boolean isBarChart() {
        return !bars.isEmpty();
    }

    public boolean isEmpty() {
        return bars.isEmpty() && series.stream().allMatch(Series::isEmpty);
    }
}
