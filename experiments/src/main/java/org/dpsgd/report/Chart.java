package org.dpsgd.report;

import java.util.List;

/**
 * A chart, independent of how it is drawn (inline SVG for the HTML page, PNG for papers).
 * A line chart has series; a bar chart has one value per category (bars).
 */
public record Chart(String id, String title, String xLabel, String yLabel, List<Series> series, List<Bar> bars) {
    public record Bar(String label, double value) {}

    public Chart {
        series = series == null ? List.of() : List.copyOf(series);
        bars = bars == null ? List.of() : List.copyOf(bars);
    }

    public static Chart lines(String id, String title, String xLabel, String yLabel, List<Series> series) {
        return new Chart(id, title, xLabel, yLabel, series, null);
    }

    public static Chart bars(String id, String title, String yLabel, List<Bar> bars) {
        return new Chart(id, title, "", yLabel, null, bars);
    }

    public boolean isBarChart() {
        return !bars.isEmpty();
    }

    public boolean isEmpty() {
        return bars.isEmpty() && series.stream().allMatch(Series::isEmpty);
    }
}
