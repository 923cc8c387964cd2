package org.dpsgd.run;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress display. On a terminal, a bar from the progressbar library (me.tongfei), which fits the
 * terminal's width (read through JLine, and again when the window is resized) and redraws in place;
 * the run's numbers (ε, examples/s, and loss and accuracy when they are released) follow it and are
 * cut from the end when the line is too narrow; step and ETA are in the bar's own part. Anywhere
 * else (a file, a pipe, CI) one plain line per update, with no control characters: the library
 * would write carriage returns into a log.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final LineEndingConsumer consumer;
    private ProgressBar bar;
    /** The run's ETA (training time only, evaluation excluded), shown instead of the library's linear guess. */
    private volatile double etaSeconds = Double.NaN;

    /** @param terminal whether {@code out} is a terminal (a redrawn bar) or not (plain lines) */
    public Progress(PrintStream out, boolean terminal) {
        this(out, terminal, terminal ? new ConsoleProgressBarConsumer(out) : null);
    }

    /** For tests: a terminal of a fixed width. */
    Progress(PrintStream out, int columns) {
        // One column short of the width: a character in the last column makes some terminals wrap.
        this(out, true, new ConsoleProgressBarConsumer(out, columns - 1));
    }

    private Progress(PrintStream out, boolean terminal, ProgressBarConsumer consumer) {
        this.out = out;
        this.terminal = terminal;
        this.consumer = consumer == null ? null : new LineEndingConsumer(consumer);
    }

    /** Progress on standard error: a bar when it is a terminal, plain lines when it is redirected. */
    public static Progress forConsole(PrintStream err) {
        return new Progress(err, stderrIsTerminal());
    }

    /**
     * Whether file descriptor 2 is a terminal. Java cannot ask isatty(2): on Linux /proc says where
     * fd 2 points; elsewhere {@code System.console()} (stdin and stdout) is the best guess.
     */
    static boolean stderrIsTerminal() {
        Path fd = Path.of("/proc/self/fd/2");
        try {
            String target = Files.readSymbolicLink(fd).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return System.console() != null;
        }
    }

    /** One update; {@code loss} and {@code accuracy} may be NaN (not released), and are then left out. */
    public synchronized void step(
            long step,
            long total,
            double loss,
            double accuracy,
            double epsilon,
            double examplesPerSecond,
            double etaSeconds) {
        if (!terminal) {
            List<String> p = new ArrayList<>();
            p.add("step " + step + "/" + total);
            p.addAll(numbers(loss, accuracy, epsilon, examplesPerSecond));
            if (!Double.isNaN(etaSeconds)) p.add("ETA " + duration(etaSeconds));
            out.println(String.join("  ", p));
            return;
        }
        this.etaSeconds = etaSeconds;
        if (bar == null) bar = start(total);
        bar.maxHint(total);
        bar.setExtraMessage(String.join("  ", numbers(loss, accuracy, epsilon, examplesPerSecond)));
        bar.stepTo(step);
        bar.refresh(); // drawn now, in this thread (see start)
    }

    private ProgressBar start(long total) {
        return new ProgressBarBuilder()
                .setTaskName("train")
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII)
                // Redrawn by step() itself, not by the library's timer: its timer thread and close() could both run the
                // final draw and leave the last line twice (seen at 160 columns in tmux).
                .setUpdateIntervalMillis(Integer.MAX_VALUE)
                .setConsumer(consumer)
                .setEtaFunction(state -> {
                    double eta = etaSeconds;
                    return Double.isFinite(eta) && eta >= 0
                            ? Optional.of(Duration.ofSeconds(Math.round(eta)))
                            : Optional.empty();
                })
                .build();
    }

    /** What follows the bar, most important first (the library cuts from the end). */
    static List<String> numbers(double loss, double accuracy, double epsilon, double examplesPerSecond) {
        List<String> p = new ArrayList<>();
        p.add(Double.isInfinite(epsilon) ? "ε ∞ (non-private)" : String.format(Locale.ROOT, "ε %.3f", epsilon));
        if (Double.isFinite(examplesPerSecond)) p.add(String.format(Locale.ROOT, "%.0f ex/s", examplesPerSecond));
        if (Double.isFinite(loss)) p.add(String.format(Locale.ROOT, "loss %.4f", loss));
        if (Double.isFinite(accuracy)) p.add(String.format(Locale.ROOT, "acc %5.1f%%", 100 * accuracy));
        return p;
    }

    /** A message that must not be overwritten by the bar: the bar's line is ended and stays as it was. */
    public synchronized void line(String message) {
        // The bar's line as of now (its own redraw may lag by up to the update interval), then the message in one
        // print call: the library's refresh thread prints whole draws on the same stream.
        if (bar != null) bar.refresh();
        out.print(
                bar != null
                        ? System.lineSeparator() + message + System.lineSeparator()
                        : message + System.lineSeparator());
        out.flush();
    }

    /** Draws the bar's last state and ends its line; the next step starts a new bar. */
    public synchronized void finish() {
        if (bar != null) {
            bar.close();
            consumer.endLine();
        }
        bar = null;
    }

    /**
     * The terminal consumer, which remembers whether the bar's line is still open. The library ends the line only
     * when its timer has run once before {@code close()}: closing a bar whose first timed draw has not run yet (a busy
     * machine) draws the last state but skips the newline, and the next output would run on from the bar.
     */
    private static final class LineEndingConsumer implements ProgressBarConsumer {
        private final ProgressBarConsumer terminal;
        private volatile boolean lineOpen;

        LineEndingConsumer(ProgressBarConsumer terminal) {
            this.terminal = terminal;
        }

        @Override
        public int getMaxRenderedLength() {
            return terminal.getMaxRenderedLength();
        }

        @Override
        public void accept(String draw) {
            terminal.accept(draw);
            lineOpen = true;
        }

        @Override
        public void clear() {
            terminal.clear();
        }

        @Override
        public void close() {
            terminal.close();
            lineOpen = false;
        }

        /** Ends the bar's line unless the library already has. */
        void endLine() {
            if (lineOpen) close();
        }
    }

    static String duration(double s) {
        if (!Double.isFinite(s) || s < 0) return "?";
        long t = Math.round(s);
        if (t >= 3600) return String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60);
        if (t >= 60) return String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
        return t + "s";
    }
}
