package org.dpsgd.run;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress display: a bar redrawn in place on a terminal, plain log lines otherwise (pipes, files,
 * CI), so logs stay readable.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private boolean barShown;

    public Progress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    public static Progress forConsole(PrintStream out) {
        return new Progress(out, System.console() != null);
    }

    public void step(long step, long total, double loss, double accuracy, double epsilon, double examplesPerSecond, double etaSeconds) {
        String eps = Double.isInfinite(epsilon) ? "∞ (non-private)" : String.format(Locale.ROOT, "%.3f", epsilon);
        // NaN loss/accuracy: not released (privacy.diagnostics: none), so not shown.
        String stats = Double.isNaN(loss) ? "" : String.format(Locale.ROOT, "  loss %.4f  acc %5.1f%%", loss, 100 * accuracy);
        String text = String.format(Locale.ROOT, "step %d/%d%s  ε %s  %.0f ex/s  ETA %s",
                step, total, stats, eps, examplesPerSecond, duration(etaSeconds));
        if (terminal) {
            int width = 24;
            int filled = (int) Math.round(width * (double) step / Math.max(1, total));
            out.print("\r[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + text + "   ");
            out.flush();
            barShown = true;
        } else {
            out.println(text);
        }
    }

    /** A message that must not be overwritten by the bar. */
    public void line(String message) {
        if (barShown) {
            out.println();
            barShown = false;
        }
        out.println(message);
    }

    public void finish() {
        if (barShown) out.println();
        barShown = false;
    }

    static String duration(double s) {
        if (!Double.isFinite(s) || s < 0) return "?";
        long t = Math.round(s);
        if (t >= 3600) return String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60);
        if (t >= 60) return String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
        return t + "s";
    }
}
