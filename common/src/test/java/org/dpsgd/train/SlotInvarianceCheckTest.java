package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The trainer's check of the clip bound's slot premise on the run's own model (docs/core.md, "Float margin" 2). */
class SlotInvarianceCheckTest {
    private static final Shape INPUT = new Shape(1, 4, 4);

    private static LogisticRegressionModel model() {
        float[] w = new float[10 * 16 + 10];
        for (int i = 0; i < w.length; i++) w[i] = (float) Math.sin(i);
        return new LogisticRegressionModel(INPUT, 10, null, w);
    }

    /** A model whose norms depend on the slot by one ulp in slot {@code bad}: what a slot-dependent kernel does. */
    private static ForwardingTrainableModel slotDependent(int bad) {
        return new ForwardingTrainableModel(model()) {
            @Override
            public double[] perSampleGradientNorms(DeviceBatch batch) {
                double[] n = super.perSampleGradientNorms(batch);
                n[bad] = Math.nextUp(n[bad]);
                return n;
            }
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 7, 64})
    void aModelWhoseNormsAreItsExamplesAloneHolds(int slots) {
        LogisticRegressionModel m = model();
        SlotInvarianceCheck.Result r = SlotInvarianceCheck.run(m, m.network(), slots, 1);
        assertEquals(new SlotInvarianceCheck.Result(0, slots), r);
        assertTrue(r.holds());
    }

    @Test
    void oneUlpInOneSlotIsSeenForTheTwoExamplesThatVisitIt() {
        ForwardingTrainableModel m = slotDependent(3);
        // the example in slot 3 leaves it, and the one from slot 2 arrives: both compare unequal
        assertEquals(new SlotInvarianceCheck.Result(2, 8), SlotInvarianceCheck.run(m, m.network(), 8, 2));
    }

    @Test
    void theCheckReadsNoTrainingDataAndAccumulatesNothing() {
        List<DeviceBatch> seen = new ArrayList<>();
        ForwardingTrainableModel m = new ForwardingTrainableModel(model()) {
            @Override
            public double[] perSampleGradientNorms(DeviceBatch batch) {
                seen.add(batch);
                return super.perSampleGradientNorms(batch);
            }
        };
        SlotInvarianceCheck.check(m, m.network(), BatchLayout.of(5), 3, Map.of(), s -> {});
        assertEquals(3, seen.size()); // the first call twice, then moved
        assertEquals(5, seen.get(0).slots());
        assertEquals(3, seen.get(0).multiplicity());
        float[] sum = new float[(int) m.network().parameterCount()];
        m.drainGradientSum(sum);
        for (float v : sum) assertEquals(0f, v);
    }

    @Test
    void aMovedNormRefusesTheRunInOneLineNamingTheOptOut() {
        ForwardingTrainableModel m = slotDependent(0);
        UserError e = assertThrows(
                UserError.class,
                () -> SlotInvarianceCheck.check(
                        m, m.network(), BatchLayout.of(4), 1, Map.of("slot_invariance", "require"), s -> {}));
        assertTrue(e.getMessage().startsWith("2 of 4 examples get other norm bits"), e.getMessage());
        assertTrue(e.getMessage().contains("slot_invariance=record"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void recordTrainsAnywayAndWarnsLoudly() {
        ForwardingTrainableModel m = slotDependent(0);
        List<String> log = new ArrayList<>();
        SlotInvarianceCheck.Result r = SlotInvarianceCheck.check(
                m, m.network(), BatchLayout.of(4), 1, Map.of("slot_invariance", "record"), log::add);
        assertFalse(r.holds());
        assertTrue(r.toString().startsWith("NORMS MOVE: 2 of 4"), r.toString());
        assertEquals(1, log.size());
        assertTrue(log.get(0).startsWith("WARNING: NORMS MOVE"), log.get(0));
        SlotInvarianceCheck.Result held = new SlotInvarianceCheck.Result(0, 4);
        List<String> quiet = new ArrayList<>();
        assertSame(held, SlotInvarianceCheck.decide(held, true, quiet::add));
        assertTrue(quiet.isEmpty());
    }

    @Test
    void theSettingThenTheVariableThenRequire() {
        assertTrue(SlotInvarianceCheck.required(Map.of(), null), "require is the default");
        assertFalse(SlotInvarianceCheck.required(Map.of(), "record"), "the variable");
        assertTrue(SlotInvarianceCheck.required(Map.of("slot_invariance", "require"), "record"), "the setting first");
        assertFalse(SlotInvarianceCheck.required(Map.of("slot_invariance", " RECORD "), null));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SlotInvarianceCheck.required(Map.of("slot_invariance", "off"), null));
        assertTrue(e.getMessage().contains("must be require or record, got 'off'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SlotInvarianceCheck.required(Map.of(), "sometimes"));
        assertTrue(SlotInvarianceCheck.required(Map.of(), " "), "an empty variable is an unset one");
    }

    /** Stochastic rounding (the IPU's fp16) gives other bits for the same call: not checkable, said so, not refused. */
    @Test
    void aNondeterministicBackendIsReportedAsNotCheckableAndNotRefused() {
        ForwardingTrainableModel m = new ForwardingTrainableModel(model()) {
            private int calls;

            @Override
            public double[] perSampleGradientNorms(DeviceBatch batch) {
                double[] n = super.perSampleGradientNorms(batch);
                if (calls++ % 2 == 1) n[1] = Math.nextUp(n[1]); // every other call, one slot one ulp off
                return n;
            }
        };
        List<String> log = new ArrayList<>();
        SlotInvarianceCheck.Result r = SlotInvarianceCheck.check(
                m, m.network(), BatchLayout.of(4), 1, Map.of("slot_invariance", "require"), log::add);
        assertEquals(1, r.unstable());
        assertFalse(r.checkable());
        assertFalse(r.holds());
        assertTrue(r.toString().startsWith("NOT CHECKABLE: the same call made twice gave 1 of 4"), r.toString());
        assertEquals(1, log.size());
        assertTrue(log.get(0).startsWith("WARNING: slot check NOT CHECKABLE"), log.get(0));
    }
}
