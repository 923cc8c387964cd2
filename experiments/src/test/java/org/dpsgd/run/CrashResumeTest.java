package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.LedgerJournal;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Crashes injected at every phase of a step (and inside a checkpoint write), then resumed: the
 * final ε must be the accountant's ε for every noisy step that actually ran, counted independently
 * of the ledger by a listener on the trainer's CHARGED phase, never fewer.
 */
class CrashResumeTest {
    @TempDir
    Path dir;

    private static final double Q = 32.0 / 256;
    private static final double SIGMA = 1.1;
    private static final double DELTA = 1e-5;

    static ExperimentConfig config() {
        return ConfigLoader.parse(TrainingRunTest.CONFIG, "test");
    }

    static TrainingRun.Options quiet() {
        return TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream()));
    }

    /** Counts noisy steps as they are charged and throws at the {@code crashAt}-th visit of {@code point}. */
    static final class Crash implements Consumer<String> {
        final AtomicLong charged;
        final String point;
        final long crashAt;
        long visits;

        Crash(AtomicLong charged, String point, long crashAt) {
            this.charged = charged;
            this.point = point;
            this.crashAt = crashAt;
        }

        @Override
        public void accept(String p) {
            if (p.equals("CHARGED")) charged.incrementAndGet();
            if (p.equals(point) && ++visits == crashAt) throw new SimulatedCrash(point);
        }
    }

    static final class SimulatedCrash extends RuntimeException {
        SimulatedCrash(String where) {
            super("simulated crash at " + where);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SAMPLED", "CHARGED", "SUMMED", "UPDATED", "after-metrics", "mid-checkpoint"})
    void aCrashAtAnyPhaseNeverLowersTheReportedEpsilon(String point) {
        AtomicLong charged = new AtomicLong();
        long crashAt = point.equals("mid-checkpoint") ? 2 : 7; // the step-8 checkpoint, or step 7
        Path run = dir.resolve("run");
        assertThrows(
                SimulatedCrash.class,
                () -> TrainingRun.start(config(), run, quiet().withFaults(new Crash(charged, point, crashAt))));
        long chargedBeforeCrash = charged.get();
        assertEquals(
                chargedBeforeCrash,
                LedgerJournal.read(run.resolve(TrainingRun.LEDGER)).steps(),
                "the ledger holds every charged step");

        TrainingRun.Result r = TrainingRun.resume(run, quiet().withFaults(new Crash(charged, "none", 0)));
        assertEquals("finished", r.status());
        assertEquals(12, r.steps());
        long ran = charged.get();
        assertTrue(ran >= 12, "at least every planned step was charged: " + ran);
        assertEquals(ran, r.stepsCharged());
        double expected = Accountants.epsilon(Q, SIGMA, ran, DELTA, AccountantKind.RDP);
        assertEquals(expected, r.epsilon(), 1e-9 * expected, point + ": ε of the " + ran + " noisy steps that ran");
        Map<?, ?> fin = (Map<?, ?>) RunDirectory.readRunInfo(run).get("final");
        assertEquals(expected, ((Number) fin.get("epsilon")).doubleValue(), 1e-9 * expected);
        assertEquals(ran, ((Number) fin.get("steps_charged")).longValue());
    }

    @Test
    void repeatedRandomCrashesEachChargeWhatRan() {
        SplittableRandom rng = new SplittableRandom(42);
        String[] points = {"SAMPLED", "CHARGED", "SUMMED", "UPDATED", "after-metrics", "mid-checkpoint"};
        AtomicLong charged = new AtomicLong();
        Path run = dir.resolve("run");
        int crashes = 0;
        TrainingRun.Result r = null;
        for (int attempt = 0; attempt < 8 && r == null; attempt++) {
            Crash crash = attempt < 4
                    ? new Crash(charged, points[rng.nextInt(points.length)], 1 + rng.nextInt(5))
                    : new Crash(charged, "none", 0);
            try {
                r = attempt == 0
                        ? TrainingRun.start(config(), run, quiet().withFaults(crash))
                        : TrainingRun.resume(run, quiet().withFaults(crash));
            } catch (SimulatedCrash e) {
                crashes++;
            }
        }
        assertTrue(crashes >= 3, "crashed " + crashes + " times");
        assertEquals("finished", r.status());
        assertEquals(charged.get(), r.stepsCharged());
        assertEquals(Accountants.epsilon(Q, SIGMA, charged.get(), DELTA, AccountantKind.RDP), r.epsilon(), 1e-9);
        assertEquals(
                charged.get(),
                LedgerJournal.read(run.resolve(TrainingRun.LEDGER)).steps());
    }

    @Test
    void aStopRightAfterACheckpointRepeatsNothingAndIsReproducedBitForBit() {
        TrainingRun.Result straight = TrainingRun.start(config(), dir.resolve("straight"), quiet());
        TrainingRun.start(config(), dir.resolve("stopped"), quiet().withStopAfter(8)); // checkpoint_every: 4
        TrainingRun.Result resumed = TrainingRun.resume(dir.resolve("stopped"), quiet());
        assertArrayEquals(straight.parameters(), resumed.parameters());
        assertEquals(straight.epsilon(), resumed.epsilon());
        assertEquals(12, resumed.stepsCharged());
        assertTrue(Files.notExists(dir.resolve("stopped/metrics-repeated.jsonl")), "nothing was repeated");
    }

    @Test
    void resumingAFinishedRunIsANoOp() throws IOException {
        Path run = dir.resolve("run");
        TrainingRun.Result done = TrainingRun.start(config(), run, quiet());
        String metrics = Files.readString(run.resolve(RunDirectory.METRICS));
        String ledger = Files.readString(run.resolve(TrainingRun.LEDGER));
        java.io.ByteArrayOutputStream said = new java.io.ByteArrayOutputStream();
        PrintStream ps = new PrintStream(said, true, java.nio.charset.StandardCharsets.UTF_8);
        TrainingRun.Result again = TrainingRun.resume(run, TrainingRun.Options.quiet(ps));
        assertEquals("finished", again.status());
        assertEquals(done.epsilon(), again.epsilon());
        assertEquals(done.testAccuracy(), again.testAccuracy());
        assertEquals(metrics, Files.readString(run.resolve(RunDirectory.METRICS)), "no second final evaluation");
        assertEquals(ledger, Files.readString(run.resolve(TrainingRun.LEDGER)), "nothing charged");
        assertTrue(
                said.toString(java.nio.charset.StandardCharsets.UTF_8).contains("nothing to resume"), said.toString());
    }

    @Test
    void aTruncatedOrEditedLedgerStopsTheResume() throws IOException {
        Path run = dir.resolve("run");
        TrainingRun.start(config(), run, quiet().withStopAfter(10));
        Path ledger = run.resolve(TrainingRun.LEDGER);
        List<String> lines = Files.readAllLines(ledger);
        assertEquals(10, lines.size());

        Files.write(ledger, lines.subList(0, 6)); // fewer steps than the step-8 checkpoint's ledger
        IllegalArgumentException shortLedger =
                assertThrows(IllegalArgumentException.class, () -> TrainingRun.resume(run, quiet()));
        assertTrue(shortLedger.getMessage().contains("ledger"), shortLedger.getMessage());

        List<String> edited = new java.util.ArrayList<>(lines);
        edited.remove(3);
        Files.write(ledger, edited);
        IllegalStateException gap = assertThrows(IllegalStateException.class, () -> TrainingRun.resume(run, quiet()));
        assertTrue(gap.getMessage().contains("out of sequence"), gap.getMessage());

        Files.delete(ledger);
        IllegalStateException missing =
                assertThrows(IllegalStateException.class, () -> TrainingRun.resume(run, quiet()));
        assertTrue(missing.getMessage().contains(TrainingRun.LEDGER), missing.getMessage());
    }

    @Test
    void aCrashBeforeTheFirstCheckpointRestartsFromTheStartWithItsStepsCharged() {
        AtomicLong charged = new AtomicLong();
        Path run = dir.resolve("run");
        assertThrows(
                SimulatedCrash.class,
                () -> TrainingRun.start(config(), run, quiet().withFaults(new Crash(charged, "UPDATED", 3))));
        assertEquals(3, charged.get());
        TrainingRun.Result r = TrainingRun.resume(run, quiet().withFaults(new Crash(charged, "none", 0)));
        assertEquals(12, r.steps());
        assertEquals(15, r.stepsCharged());
        assertEquals(Accountants.epsilon(Q, SIGMA, 15, DELTA, AccountantKind.RDP), r.epsilon(), 1e-9);
    }
}
