package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoiseSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The warm-up that waits for the JIT: a fake step moves a fake wall clock and a fake JIT clock. */
class JitWarmUpTest {
    /** A step of {@code stepMs} of wall time; the JIT compiles {@code compileMs} during each of the first {@code busySteps}. */
    private static final class FakeRun {
        long nanos;
        long compileMs;
        int steps;
        final long stepMs;
        final long perStepCompileMs;
        final int busySteps;

        FakeRun(long stepMs, long perStepCompileMs, int busySteps) {
            this.stepMs = stepMs;
            this.perStepCompileMs = perStepCompileMs;
            this.busySteps = busySteps;
        }

        void step(int index) {
            assertEquals(steps, index, "warm-up step indices count from 0");
            nanos += stepMs * 1_000_000L;
            if (steps < busySteps) compileMs += perStepCompileMs;
            steps++;
        }

        JitWarmUp warmUp(double capSeconds) {
            return new JitWarmUp(() -> compileMs, () -> nanos, (long) (capSeconds * 1e9));
        }
    }

    @ParameterizedTest(name = "step {0} ms, JIT busy for {1} steps")
    @CsvSource({"20, 0", "20, 1", "20, 150", "20, 999", "500, 3", "3000, 2", "1, 5000"})
    void warmUpEndsAfterTheFirstWindowWithoutCompilation(long stepMs, int busySteps) {
        FakeRun run = new FakeRun(stepMs, 40, busySteps);
        JitWarmUp.Outcome o = run.warmUp(1e6).run(2, run::step);
        assertTrue(o.quiet() && o.measured(), o.describe());
        assertEquals(run.steps, o.steps());
        // Independently of the class: the windows start after the 2 first steps, each spanning at least 5 steps and 2
        // s.
        int perWindow = (int) Math.max(5, (2000 + stepMs - 1) / stepMs);
        int firstQuietWindow = busySteps <= 2 ? 0 : (busySteps - 2 + perWindow - 1) / perWindow;
        assertEquals(2 + (firstQuietWindow + 1) * perWindow, o.steps(), "steps run");
        assertEquals(o.steps() * stepMs / 1e3, o.seconds(), 1e-9);
    }

    @Test
    void aWindowWithALittleCompilationIsQuietAndWithMoreItIsNot() {
        // 100 steps of 20 ms = a 2 s window: 1 % is 20 ms of compilation, here all in the window's first step.
        FakeRun little = new FakeRun(20, 20, 1);
        assertEquals(100, little.warmUp(1e6).run(0, little::step).steps());
        FakeRun more = new FakeRun(20, 21, 1);
        assertEquals(200, more.warmUp(1e6).run(0, more::step).steps());
    }

    @Test
    void theCapEndsAWarmUpThatNeverQuietens() {
        FakeRun run = new FakeRun(100, 50, Integer.MAX_VALUE);
        JitWarmUp.Outcome o = run.warmUp(7.0).run(2, run::step);
        assertFalse(o.quiet());
        assertTrue(o.measured());
        assertEquals(70, o.steps(), "the step that reaches 7 s is the last");
        assertTrue(o.describe().contains("still compiling"), o.describe());
    }

    @Test
    void withoutAJitClockAFixedCountRuns() {
        FakeRun run = new FakeRun(20, 0, 0);
        JitWarmUp.Outcome o = new JitWarmUp(() -> -1, () -> run.nanos, 1_000_000_000L).run(2, run::step);
        assertEquals(JitWarmUp.FALLBACK_STEPS, o.steps());
        assertFalse(o.measured());
        FakeRun more = new FakeRun(20, 0, 0);
        assertEquals(
                30,
                new JitWarmUp(() -> -1, () -> more.nanos, 1).run(30, more::step).steps());
    }

    @Test
    void theWarmUpOptionReadsAutoOrAStepCount() {
        assertTrue(BenchRun.WarmUp.parse(" AUTO ").untilJitQuiet());
        assertEquals(7, BenchRun.WarmUp.parse("7").steps());
        assertEquals(20, BenchRun.WarmUp.parse("auto").stepsOr(20));
        assertEquals(7, BenchRun.WarmUp.parse("7").stepsOr(20));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchRun.WarmUp.parse("lots"));
        assertEquals("--warmup must be auto or a number of steps, got 'lots'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BenchRun.WarmUp.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> new JitWarmUp(() -> 0, () -> 0, 0));
    }

    /** The bench with a JIT warm-up (capped short for the test) lists every strategy's warm-up and reads peaks early. */
    @Test
    void theBenchWarmsEachStrategyAndSaysHow() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10);
        try (Backend backend = Backends.select("djl", s -> {}).open(new BackendOptions("cpu", Map.of()))) {
            BenchRun run = new BenchRun(
                    backend,
                    net,
                    BenchCommand.randomBatch(net, 4),
                    NoiseSources.create(NoiseMode.SECURE, 0, s -> {}, false),
                    1.0,
                    1.0,
                    Map.of());
            List<BenchResult> r = run.run(List.of("nonprivate", "auto"), new BenchRun.WarmUp(-1, 0.3), 2, 1, s -> {});
            assertEquals(2, r.size());
            assertEquals(3, run.warmUps.size(), "each strategy's warm-up, then theirs in turn");
            assertTrue(run.warmUps.get(2).startsWith("in turn "), run.warmUps.get(2));
            for (int i = 0; i < 2; i++) {
                String w = run.warmUps.get(i);
                assertTrue(w.startsWith(r.get(i).strategy() + " "), w);
                int steps = Integer.parseInt(w.split(" ")[1]);
                assertTrue(steps >= BenchRun.PEAK_STEPS + JitWarmUp.WINDOW_STEPS || w.contains("at the cap"), w);
                assertTrue(w.contains("JIT"), w);
                assertTrue(r.get(i).peakMb() > 0, "peak read");
            }
            assertTrue(run.timedJitMillis >= 0, "HotSpot reports its compilation time");
        }
    }
}
