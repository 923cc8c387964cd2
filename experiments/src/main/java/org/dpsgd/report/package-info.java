/**
 * The compare report. {@link org.dpsgd.report.RunLoader} reads run folders and sweep CSV files into
 * {@link org.dpsgd.report.RunSummary}s; {@link org.dpsgd.report.HtmlReport} writes one self-contained HTML page
 * (tables, inline SVG {@link org.dpsgd.report.Chart}s, config differences) and each chart as a PNG.
 *
 * {@link org.dpsgd.report.SweepCharts} draws a sweep against its swept keys; {@link org.dpsgd.report.Csv} reads and
 * writes sweep.csv through Apache Commons CSV.
 *
 * <p>Privacy rule: a run whose ε is not a guarantee (insecure noise, shuffle sampling) is shown as such, never with a
 * plain ε next to the private runs; training-set metrics a run released raw are charted only under a title that says
 * they are not covered by ε.
 */
package org.dpsgd.report;
