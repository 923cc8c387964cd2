/**
 * The compare report. {@link org.dpsgd.report.RunLoader} reads run folders and sweep CSV files into
 * {@link org.dpsgd.report.RunSummary}s; {@link org.dpsgd.report.HtmlReport} writes one self-contained HTML page
 * (tables, inline SVG {@link org.dpsgd.report.Chart}s, config differences) and each chart as a PNG.
 *
 * <p>Privacy rule: a run whose ε is not a guarantee (insecure noise, shuffle sampling) is shown as such, never with a
 * plain ε next to the private runs.
 */
package org.dpsgd.report;
