package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The progress line: the library's bar on a terminal (fitted to its width), plain lines elsewhere. */
class ProgressTest {
    /** The demo's numbers, on a terminal of {@code columns}; returns everything written. */
    private static String demo(int columns) {
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(term, true, StandardCharsets.UTF_8), columns);
        p.step(1170, 1172, 0.6354, 0.877, 2.997, 3533, 1);
        p.finish();
        return term.toString(StandardCharsets.UTF_8);
    }

    /** What a terminal shows last: the text after the last carriage return, without the final newline. */
    private static String lastDraw(String written) {
        String[] draws = written.split("\r");
        return draws[draws.length - 1].strip();
    }

    private static List<String> draws(String written) {
        return Arrays.stream(written.split("[\r\n]")).filter(s -> !s.isEmpty()).toList();
    }

    @Test
    void wideTerminalsShowStepEpsilonThroughputEtaLossAndAccuracy() {
        String line = lastDraw(demo(160));
        assertTrue(line.startsWith("train  99% ["), line);
        // (elapsed / ETA): the elapsed time is the bar's own clock, the ETA is the run's.
        assertTrue(
                line.matches(
                        ".*\\] 1170/1172 \\(0:00:\\d\\d / 0:00:01\\) ε 2\\.997  3533 ex/s  loss 0\\.6354  acc  87\\.7%"),
                line);
        assertEquals(159, line.codePointCount(0, line.length()), "the bar fills the width less one column");
    }

    /** At 80 columns the old 97-character line wrapped and every update became a new line. */
    @Test
    void eightyColumnsKeepStepEtaAndEpsilonOnOneLine() {
        String line = lastDraw(demo(80));
        assertTrue(line.codePointCount(0, line.length()) <= 79, line);
        assertTrue(line.contains("1170/1172") && line.contains("/ 0:00:01)") && line.contains("ε 2.997"), line);
    }

    static IntStream widths() {
        return IntStream.rangeClosed(20, 200);
    }

    /** Whatever the width and the numbers, no draw reaches the last column, so none wraps. */
    @ParameterizedTest
    @MethodSource("widths")
    void neverWiderThanTheTerminal(int columns) {
        SplittableRandom r = new SplittableRandom(columns);
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(term, true, StandardCharsets.UTF_8), columns);
        long total = 1 + r.nextLong(10_000_000);
        for (int i = 0; i < 5; i++) {
            long step = r.nextLong(total + 1);
            double loss = r.nextInt(4) == 0 ? Double.NaN : r.nextDouble() * 100;
            double acc = r.nextInt(4) == 0 ? Double.NaN : r.nextDouble();
            double eps = r.nextInt(10) == 0 ? Double.POSITIVE_INFINITY : r.nextDouble() * 1e6;
            double exs = r.nextInt(4) == 0 ? Double.NaN : r.nextDouble() * 1e6;
            p.step(step, total, loss, acc, eps, exs, r.nextDouble() * 1e6);
        }
        p.finish();
        for (String d : draws(term.toString(StandardCharsets.UTF_8)))
            assertTrue(d.codePointCount(0, d.length()) <= columns - 1, columns + ": " + d);
    }

    @Test
    void unreleasedLossAndAccuracyAreLeftOut() {
        assertEquals(List.of("ε 1.250", "800 ex/s"), Progress.numbers(Double.NaN, Double.NaN, 1.25, 800));
        assertEquals(
                List.of("ε ∞ (non-private)", "loss 0.5000"),
                Progress.numbers(0.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NaN));
    }

    @Test
    void aMessageGetsItsOwnLineAndTheBarGoesOnBelowIt() {
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(term, true, StandardCharsets.UTF_8), 100);
        p.step(10, 30, Double.NaN, Double.NaN, 1.5, 800, 4);
        p.line("eval at step 10: test accuracy 27.34%");
        p.step(20, 30, Double.NaN, Double.NaN, 2.5, 800, 2);
        p.finish();
        String t = term.toString(StandardCharsets.UTF_8);
        String nl = System.lineSeparator();
        assertTrue(t.contains(nl + "eval at step 10: test accuracy 27.34%" + nl), t);
        assertTrue(lastDraw(t).contains("20/30") && lastDraw(t).contains("ε 2.500"), t);
        assertTrue(t.endsWith(nl), "finish ends the bar's line");
    }

    /**
     * CI once saw the bar's line left open: the library ends it only if its timer thread has drawn once before
     * {@code close()}. Here that thread is held busy until {@code finish()} waits on it, so the first timed draw
     * never runs before the close, every time.
     */
    @Test
    void finishEndsTheLineEvenWhenTheLibrarysTimerHasNotRunYet() throws Exception {
        Field f = Class.forName("me.tongfei.progressbar.Util").getDeclaredField("executor");
        f.setAccessible(true);
        ScheduledThreadPoolExecutor timer = (ScheduledThreadPoolExecutor) f.get(null);
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        timer.execute(() -> {
            busy.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        busy.await();
        Thread caller = Thread.currentThread();
        Thread releaser = new Thread(() -> {
            // Released once finish() is blocked on the library's close, i.e. after the first timed draw was cancelled.
            while (caller.getState() != Thread.State.WAITING) Thread.onSpinWait();
            release.countDown();
        });
        releaser.start();
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(term, true, StandardCharsets.UTF_8), 100);
        p.step(20, 30, Double.NaN, Double.NaN, 2.5, 800, 2);
        p.finish();
        releaser.join();
        String t = term.toString(StandardCharsets.UTF_8);
        assertTrue(lastDraw(t).contains("20/30"), t);
        assertTrue(t.endsWith(System.lineSeparator()), "finish ends the bar's line: " + t);
        assertEquals(1, t.split(System.lineSeparator(), -1).length - 1, "exactly one newline: " + t);
    }

    /** Redirected to a file: whole lines, no carriage returns or escape sequences. */
    @Test
    void aPipeGetsPlainLines() {
        ByteArrayOutputStream pipe = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(pipe, true, StandardCharsets.UTF_8), false);
        p.step(1170, 1172, 0.6354, 0.877, 2.997, 3533, 1);
        p.line("eval");
        p.finish();
        String nl = System.lineSeparator();
        assertEquals(
                "step 1170/1172  ε 2.997  3533 ex/s  loss 0.6354  acc  87.7%  ETA 1s" + nl + "eval" + nl,
                pipe.toString(StandardCharsets.UTF_8));
    }

    @Test
    void durations() {
        assertEquals("59s", Progress.duration(59));
        assertEquals("2m05s", Progress.duration(125));
        assertEquals("1h01m", Progress.duration(3660));
        assertEquals("?", Progress.duration(Double.POSITIVE_INFINITY));
    }
}
