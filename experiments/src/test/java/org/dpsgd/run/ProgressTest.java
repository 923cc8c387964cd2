package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ProgressTest {
    /** The demo's line: about 97 characters with the bar, which wrapped at 80 columns. */
    private static String demo(int columns) {
        return Progress.fit(1170, 1172, 0.6354, 0.877, 2.997, 3533, 1, columns);
    }

    @Test
    void wideTerminalsShowEverythingWithTheFullBar() {
        String line = demo(160);
        assertEquals(
                "[" + "#".repeat(24) + "] step 1170/1172  loss 0.6354  acc  87.7%  ε 2.997  3533 ex/s  ETA 1s", line);
    }

    @Test
    void theBarShrinksFirstThenGoesSoEightyColumnsKeepEveryNumber() {
        String at90 = demo(90);
        assertEquals(
                "[" + "#".repeat(19) + "] step 1170/1172  loss 0.6354  acc  87.7%  ε 2.997  3533 ex/s  ETA 1s", at90);
        assertEquals(89, Progress.length(at90));
        assertEquals("step 1170/1172  loss 0.6354  acc  87.7%  ε 2.997  3533 ex/s  ETA 1s", demo(80));
    }

    @Test
    void narrowTerminalsDropTheBarThenAccuracyLossThroughputAndEta() {
        assertEquals("step 1170/1172  loss 0.6354  acc  87.7%  ε 2.997  3533 ex/s  ETA 1s", demo(70));
        assertEquals("step 1170/1172  loss 0.6354  ε 2.997  3533 ex/s  ETA 1s", demo(60));
        assertEquals("step 1170/1172  ε 2.997  3533 ex/s  ETA 1s", demo(45));
        assertEquals("step 1170/1172  ε 2.997  ETA 1s", demo(35));
        assertEquals("step 1170/1172  ε 2.997", demo(25));
        assertEquals("step 1170/117…", demo(15)); // nothing else fits: cut, never wrapped
    }

    static IntStream widths() {
        return IntStream.rangeClosed(1, 200);
    }

    /** Whatever the width and the numbers, the line never reaches the last column, and step and ε stay while they fit. */
    @ParameterizedTest
    @MethodSource("widths")
    void neverWiderThanTheTerminal(int columns) {
        SplittableRandom r = new SplittableRandom(columns);
        for (int i = 0; i < 50; i++) {
            long total = 1 + r.nextLong(10_000_000);
            long step = r.nextLong(total + 1);
            double loss = r.nextInt(4) == 0 ? Double.NaN : r.nextDouble() * 100;
            double acc = r.nextInt(4) == 0 ? Double.NaN : r.nextDouble();
            double eps = r.nextInt(10) == 0 ? Double.POSITIVE_INFINITY : r.nextDouble() * 1e6;
            double exs = r.nextInt(4) == 0 ? Double.NaN : r.nextDouble() * 1e6;
            String line = Progress.fit(step, total, loss, acc, eps, exs, r.nextDouble() * 1e6, columns);
            assertTrue(Progress.length(line) <= Math.max(10, columns) - 1, columns + ": " + line);
            if (columns >= 60) assertTrue(line.contains("step " + step + "/" + total) && line.contains("ε "), line);
        }
    }

    @Test
    void unreleasedLossAndAccuracyAreLeftOut() {
        String line = Progress.fit(5, 10, Double.NaN, Double.NaN, 1.25, 800, 3, 200);
        assertTrue(line.endsWith("] step 5/10  ε 1.250  800 ex/s  ETA 3s"), line);
        assertFalse(line.contains("NaN") || line.contains("loss") || line.contains("acc"), line);
    }

    @Test
    void aTerminalRedrawsInPlaceAndClearsTheRestAPipeGetsWholeLines() {
        ByteArrayOutputStream term = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(term, true, StandardCharsets.UTF_8), true, () -> 80);
        p.step(1170, 1172, 0.6354, 0.877, 2.997, 3533, 1);
        p.line("eval");
        String t = term.toString(StandardCharsets.UTF_8);
        assertTrue(t.startsWith("\rstep 1170/1172") && t.contains("ETA 1s\033[K\neval\n"), t);
        assertFalse(t.contains("   "), "no trailing padding that could wrap");

        ByteArrayOutputStream pipe = new ByteArrayOutputStream();
        new Progress(new PrintStream(pipe, true, StandardCharsets.UTF_8), false, () -> 20)
                .step(1170, 1172, 0.6354, 0.877, 2.997, 3533, 1);
        assertEquals(
                "step 1170/1172  loss 0.6354  acc  87.7%  ε 2.997  3533 ex/s  ETA 1s\n",
                pipe.toString(StandardCharsets.UTF_8));
    }
}
