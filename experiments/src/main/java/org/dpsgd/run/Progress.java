package org.dpsgd.run;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Progress display: a bar redrawn in place on a terminal, plain log lines otherwise (pipes, files,
 * CI), so logs stay readable. On a terminal the line is fitted to the terminal's width (read again
 * as it changes), dropping the least useful parts first, because a line that wraps is no longer
 * redrawn in place and every update becomes a new line.
 */
public final class Progress {
    /** The widest bar; it shrinks to {@link #MIN_BAR} before anything else is dropped. */
    static final int BAR = 24;

    static final int MIN_BAR = 10;
    /** "Erase to the end of the line" (ANSI EL): clears what a longer previous line left, without padding that could wrap. */
    private static final String CLEAR_TO_END = "\033[K";

    private final PrintStream out;
    private final boolean terminal;
    private final IntSupplier width;
    private boolean barShown;

    public Progress(PrintStream out, boolean terminal) {
        this(out, terminal, TerminalWidth.detector());
    }

    /** @param width the terminal's columns (asked before each redraw) */
    public Progress(PrintStream out, boolean terminal, IntSupplier width) {
        this.out = out;
        this.terminal = terminal;
        this.width = width;
    }

    public static Progress forConsole(PrintStream out) {
        return new Progress(out, System.console() != null);
    }

    /** One update; {@code loss} and {@code accuracy} may be NaN (not released), and are then left out. */
    public void step(
            long step,
            long total,
            double loss,
            double accuracy,
            double epsilon,
            double examplesPerSecond,
            double etaSeconds) {
        if (terminal) {
            out.print("\r" + fit(step, total, loss, accuracy, epsilon, examplesPerSecond, etaSeconds, width.getAsInt())
                    + CLEAR_TO_END);
            out.flush();
            barShown = true;
        } else {
            out.println(String.join(
                    "  ", parts(step, total, loss, accuracy, epsilon, examplesPerSecond, etaSeconds, true)));
        }
    }

    /**
     * The line for a terminal of {@code columns} columns: at most columns - 1 characters (a character
     * in the last column makes some terminals wrap). Dropped in this order as space runs out: bar
     * width down to {@value #MIN_BAR}, the bar, accuracy, loss, examples/s, ETA; step and ε stay.
     */
    static String fit(
            long step,
            long total,
            double loss,
            double accuracy,
            double epsilon,
            double examplesPerSecond,
            double etaSeconds,
            int columns) {
        int room = Math.max(10, columns) - 1;
        String all =
                String.join("  ", parts(step, total, loss, accuracy, epsilon, examplesPerSecond, etaSeconds, true));
        for (int bar = BAR; bar >= MIN_BAR; bar--) {
            String line = bar(step, total, bar) + " " + all;
            if (length(line) <= room) return line;
        }
        List<String> shorter = List.of(
                all,
                String.join("  ", parts(step, total, loss, Double.NaN, epsilon, examplesPerSecond, etaSeconds, true)),
                String.join(
                        "  ", parts(step, total, Double.NaN, Double.NaN, epsilon, examplesPerSecond, etaSeconds, true)),
                String.join("  ", parts(step, total, Double.NaN, Double.NaN, epsilon, Double.NaN, etaSeconds, true)),
                String.join("  ", parts(step, total, Double.NaN, Double.NaN, epsilon, Double.NaN, etaSeconds, false)));
        for (String line : shorter) if (length(line) <= room) return line;
        return truncate(shorter.get(shorter.size() - 1), room);
    }

    private static List<String> parts(
            long step,
            long total,
            double loss,
            double accuracy,
            double epsilon,
            double examplesPerSecond,
            double etaSeconds,
            boolean withEta) {
        List<String> p = new ArrayList<>();
        p.add("step " + step + "/" + total);
        if (Double.isFinite(loss)) p.add(String.format(Locale.ROOT, "loss %.4f", loss));
        if (Double.isFinite(accuracy)) p.add(String.format(Locale.ROOT, "acc %5.1f%%", 100 * accuracy));
        p.add(Double.isInfinite(epsilon) ? "ε ∞ (non-private)" : String.format(Locale.ROOT, "ε %.3f", epsilon));
        if (Double.isFinite(examplesPerSecond)) p.add(String.format(Locale.ROOT, "%.0f ex/s", examplesPerSecond));
        if (withEta && !Double.isNaN(etaSeconds)) p.add("ETA " + duration(etaSeconds));
        return p;
    }

    private static String bar(long step, long total, int width) {
        int filled = (int) Math.max(0, Math.min(width, Math.round(width * (double) step / Math.max(1, total))));
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    /** Columns a string takes: one per code point (the line holds no wide or combining characters). */
    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    private static String truncate(String s, int room) {
        return length(s) <= room ? s : s.substring(0, s.offsetByCodePoints(0, room - 1)) + "…";
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

    /**
     * The terminal's width in columns, for {@link Progress}: $COLUMNS when exported, else
     * {@code stty size} on the controlling terminal (/dev/tty), else 80. Java has no API for it; the
     * answer is cached for two seconds so a resized window is followed without a process per step.
     */
    static final class TerminalWidth {
        static final int DEFAULT = 80;
        private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(2);

        private TerminalWidth() {}

        /** A supplier that re-reads the width at most every two seconds. */
        static IntSupplier detector() {
            return new IntSupplier() {
                private int cached = -1;
                private long readAt;

                @Override
                public int getAsInt() {
                    long now = System.nanoTime();
                    if (cached < 0 || now - readAt > REFRESH_NANOS) {
                        cached = read();
                        readAt = now;
                    }
                    return cached;
                }
            };
        }

        static int read() {
            Integer env = parse(System.getenv("COLUMNS"));
            if (env != null) return env;
            File tty = new File("/dev/tty");
            if (!tty.exists()) return DEFAULT;
            try {
                Process p = new ProcessBuilder("stty", "size")
                        .redirectInput(tty)
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                if (!p.waitFor(1, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return DEFAULT;
                }
                String[] rowsCols = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)
                        .trim()
                        .split("\\s+");
                Integer cols = rowsCols.length == 2 ? parse(rowsCols[1]) : null;
                return cols != null ? cols : DEFAULT;
            } catch (IOException e) {
                return DEFAULT;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return DEFAULT;
            }
        }

        private static Integer parse(String s) {
            if (s == null) return null;
            try {
                int v = Integer.parseInt(s.trim());
                return v > 0 ? v : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
