package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link IpuTrainableModel} and {@link IpuBackend} over a recording, float32-accumulating stand-in for
 * the native session ({@link RecordingIpuSession}), without an IPU: that the coupling margin the model
 * computes actually reaches the device (the clip table of every call is {@code ClipTable.of(policy,
 * trainable, μ)} with the μ in force, never the un-lowered one), that the drains the margin assumes
 * happen (per call into a float64 host sum with one instance, once a step under poprun), and that the
 * backend builds the model with the run's poprun instances and rounding mode (docs/ipu.md "The
 * coupling margin").
 */
class IpuModelWiringTest {
    private static final Shape SHAPE = new Shape(1, 8, 8);
    private static final Network NET = ModelZoo.build(ModelSpec.of("small-cnn"), SHAPE, 10);
    /** m = 2, A = 3, R = 2: 12 slots per call. */
    private static final BatchLayout LAYOUT = new BatchLayout(2, 3, 2);

    private static int[] allTensors() {
        return IntStream.range(0, NET.parameters().size()).toArray();
    }

    private static IpuTrainableModel model(RecordingIpuSession s, int[] trainable, int instances, boolean sr) {
        return new IpuTrainableModel(
                NET, LAYOUT, 1, trainable, s, instances > 1 ? GradientScope.RUN : GradientScope.PROCESS, instances, sr);
    }

    private static RecordingIpuSession session(int[] trainable) {
        return new RecordingIpuSession(NET.parameterCount(), trainable.length);
    }

    /** d counted here from the network: the trainable tensors' sizes. */
    private static long coordinates(int[] trainable) {
        long d = 0;
        for (int t : trainable) d += NET.parameters().get(t).size();
        return d;
    }

    /** A call whose first {@code real} slots hold examples (inputs seeded, in [0.5, 1)), the rest padding. */
    private static DeviceBatch call(int real, SplittableRandom rng) {
        DeviceBatch b = new DeviceBatch(SHAPE, LAYOUT.slotsPerCall(), 1);
        int perSlot = b.inputs().length / b.slots();
        for (int s = 0; s < real; s++) {
            for (int i = 0; i < perSlot; i++) b.inputs()[s * perSlot + i] = (float) (0.5 + 0.5 * rng.nextDouble());
            b.mask()[s] = 1f;
        }
        return b;
    }

    /** One step of {@code examples} examples filled in order into calls, then {@code padding} all-padding calls. */
    private static void step(TrainableModel m, int examples, int padding, ClipPolicy policy, SplittableRandom rng) {
        int s = LAYOUT.slotsPerCall();
        for (int left = examples; left > 0; left -= s) m.accumulateClipped(call(Math.min(s, left), rng), policy);
        for (int k = 0; k < padding; k++) m.accumulateClipped(call(0, rng), policy);
    }

    private static ClipPolicy perLayer() {
        int n = NET.parameters().size();
        int[] groupOf = new int[n];
        for (int i = 0; i < n; i++) groupOf[i] = i / 2 % 3;
        return new ClipPolicy(new double[] {0.3, 0.7, 1.9}, groupOf);
    }

    @ParameterizedTest(name = "told {0}, instances {1}, stochastic {2}, per layer {3}, frozen first {4}")
    @CsvSource({
        "0,1,false,false,false",
        "0,1,true,true,false",
        "0,4,false,false,true",
        "100,1,false,false,false",
        "100,1,true,true,true",
        "100,4,false,true,false",
        "30,4,true,false,false"
    })
    void everyClippedCallSendsTheTableLoweredByTheMarginInForce(
            int told, int instances, boolean stochastic, boolean perLayer, boolean frozenFirst) {
        int[] trainable =
                frozenFirst ? IntStream.range(2, NET.parameters().size()).toArray() : allTensors();
        RecordingIpuSession s = session(trainable);
        IpuTrainableModel m = model(s, trainable, instances, stochastic);
        long d = coordinates(trainable);
        AccumulatorMargin expected = told == 0
                ? AccumulatorMargin.oneCall(LAYOUT, instances, stochastic, d)
                : AccumulatorMargin.cheaper(told, LAYOUT, instances, stochastic, d);
        if (told > 0) m.boundStepExamples(told);
        SplittableRandom rng = new SplittableRandom(told * 31L + instances);
        int examples = told == 0 ? LAYOUT.slotsPerCall() : told;
        // Two policies with different sensitivities, one after the other: μ follows the sensitivity.
        List<ClipPolicy> policies = perLayer
                ? List.of(perLayer(), ClipPolicy.flat(0.05))
                : List.of(ClipPolicy.flat(0.8), ClipPolicy.flat(3e-6));
        for (ClipPolicy p : policies) {
            int before = s.tables.size();
            step(m, examples, 1, p, rng);
            m.drainGradientSum(new double[(int) NET.parameterCount()]);
            BigDecimal mu = expected.lowering(p.sensitivity());
            assertTrue(mu.signum() > 0);
            float[] lowered = ClipTable.of(p, trainable, mu);
            float[] unlowered = ClipTable.of(p, trainable, BigDecimal.ZERO);
            assertTrue(s.tables.size() > before + 1, "calls were made");
            for (float[] table : s.tables.subList(before, s.tables.size())) {
                assertArrayEquals(lowered, table, "the table sent is ClipTable.of(policy, trainable, μ in force)");
                for (int t = 0; t < trainable.length; t++) {
                    assertTrue(table[t] < unlowered[t], "bound " + t + " not lowered: " + table[t]);
                    assertEquals(unlowered[trainable.length + t], table[trainable.length + t], "group id " + t);
                }
            }
        }
    }

    @Test
    void oneInstanceDrainsEveryRealCallIntoAnExactFloat64SumAndTheDeviceSumRestartsAtZero() {
        int[] trainable = allTensors();
        RecordingIpuSession s = session(trainable);
        IpuTrainableModel m = model(s, trainable, 1, false);
        m.boundStepExamples(100); // K = ceil(100 / 12) = 9 calls
        assertTrue(m.margin().drainEveryCall(), "one instance, 9 calls: the per-call drain is the cheaper margin");
        int p = (int) NET.parameterCount();
        SplittableRandom rng = new SplittableRandom(7);
        ClipPolicy policy = ClipPolicy.flat(1e9); // no slot clipped: the drained sums stay large, float32 rounds them

        for (int stepNo = 0; stepNo < 2; stepNo++) {
            int drainsBefore = s.drains.size();
            int runsBefore = s.tables.size();
            step(m, 100, 2, policy, rng); // 9 real calls (the last with 4 examples), 2 all-padding ones
            assertEquals(runsBefore + 11, s.tables.size());
            assertEquals(drainsBefore + 9, s.drains.size(), "one drain per call with a real slot, none for padding");
            for (int k = runsBefore; k < s.tables.size(); k++) {
                for (float v : s.sumAtCallStart.get(k))
                    assertEquals(0f, v, "call " + k + ": the device sum must restart at zero every call");
            }
            // After each real call the model drained before running the next.
            List<String> order = s.calls.subList(s.calls.size() - 11 - 9, s.calls.size());
            for (int k = 0; k < 9; k++) assertEquals(List.of("run", "drain"), order.subList(2 * k, 2 * k + 2));

            List<float[]> callSums = List.copyOf(s.drains.subList(drainsBefore, s.drains.size()));
            if (stepNo == 0) {
                double[] got = new double[p];
                m.drainGradientSum(got);
                assertEquals(drainsBefore + 10, s.drains.size(), "the step's drain takes the device's remainder");
                boolean float32Differs = false;
                for (int i = 0; i < p; i++) {
                    BigDecimal exact = BigDecimal.ZERO;
                    float f32 = 0f;
                    for (float[] c : callSums) {
                        exact = exact.add(new BigDecimal(c[i]));
                        f32 += c[i];
                    }
                    assertEquals(0, exact.compareTo(new BigDecimal(got[i])), "coordinate " + i + ": float64 host sum");
                    float32Differs |= new BigDecimal(f32).compareTo(exact) != 0;
                }
                assertTrue(float32Differs, "guard: a float32 sum of the drains would differ here");
            } else {
                float[] got = new float[p];
                m.drainGradientSum(got); // the float API: the exact float64 sum rounded once
                for (int i = 0; i < p; i++) {
                    double exact = 0;
                    for (float[] c : callSums) exact += c[i];
                    assertEquals(Float.floatToIntBits((float) exact), Float.floatToIntBits(got[i]), "coordinate " + i);
                }
            }
        }
        // The drain reset the call count: a third step of 9 real calls is accepted; a 10th is refused.
        step(m, 100, 0, policy, rng);
        assertThrows(IllegalStateException.class, () -> m.accumulateClipped(call(1, rng), policy));
    }

    @Test
    void underPoprunTheStepIsDrainedOnceAndTheDeviceSumSpansItsCalls() {
        int[] trainable = allTensors();
        RecordingIpuSession s = session(trainable);
        IpuTrainableModel m = model(s, trainable, 4, false);
        m.boundStepExamples(100);
        assertFalse(m.margin().drainEveryCall());
        SplittableRandom rng = new SplittableRandom(11);
        step(m, 100, 2, ClipPolicy.flat(1e9), rng);
        assertEquals(0, s.drains.size(), "no drain inside a poprun step (a collective every instance must join)");
        boolean accumulated = false;
        for (float v : s.sumAtCallStart.get(1)) accumulated |= v != 0f;
        assertTrue(accumulated, "the second call adds to the first's device sum");
        float[] device = s.deviceSum();
        double[] got = new double[device.length];
        m.drainGradientSum(got);
        assertEquals(1, s.drains.size());
        for (int i = 0; i < device.length; i++) assertEquals((double) device[i], got[i], "coordinate " + i);
    }

    @Test
    void anUntoldModelCoversOneRealCallPerDrain() {
        int[] trainable = allTensors();
        RecordingIpuSession s = session(trainable);
        IpuTrainableModel m = model(s, trainable, 1, false);
        SplittableRandom rng = new SplittableRandom(3);
        ClipPolicy policy = ClipPolicy.flat(1.0);
        m.accumulateClipped(call(5, rng), policy);
        m.accumulateClipped(call(0, rng), policy); // padding only: not counted
        assertThrows(IllegalStateException.class, () -> m.accumulateClipped(call(1, rng), policy));
        m.drainGradientSum(new float[(int) NET.parameterCount()]);
        m.accumulateClipped(call(12, rng), policy); // a new step
        assertEquals(1, s.drains.size(), "one call per drain needs no per-call drain");
        m.close();
        assertTrue(s.closed && s.deallocated);
    }

    /** The model the backend builds carries the run's poprun instances and stochastic-rounding flag. */
    @ParameterizedTest(name = "{0}, stochastic_rounding {1}, {2} instance(s)")
    @CsvSource({"fp16,true,4,true", "fp16,true,1,true", "fp16,false,4,false", "fp32,true,4,false", "fp32,false,1,false"
    })
    void theBackendBuildsTheModelWithTheRunsInstancesAndRounding(
            String precision, boolean sr, int instances, boolean expectStochastic) {
        int replicas = 2;
        IpuSettings settings = IpuSettings.parse(
                Map.of("precision", precision, "stochastic_rounding", String.valueOf(sr), "replicas", "2"));
        PoprunInstance poprun = new PoprunInstance(instances, instances - 1, replicas);
        String[] options = new String[1];
        RecordingIpuSession[] opened = new RecordingIpuSession[1];
        IpuBackend backend = new IpuBackend(settings, "test", poprun, (spec, opts) -> {
            options[0] = opts;
            opened[0] = new RecordingIpuSession(
                    NET.parameterCount(), NET.parameters().size());
            return opened[0];
        });
        try (TrainableModel m =
                backend.createModel(NET, new ModelOptions("auto", new BatchLayout(2, 3, 1), List.of(), Map.of()))) {
            AccumulatorMargin margin = ((IpuTrainableModel) m).margin();
            assertEquals(instances, margin.instances(), "poprun instances in the margin");
            assertEquals(expectStochastic, margin.stochasticRounding(), "stochastic rounding in the margin");
            assertEquals(new BatchLayout(2, 3, replicas), margin.layout());
            assertEquals(instances > 1 ? GradientScope.RUN : GradientScope.PROCESS, m.gradientScope());
            assertEquals(instances > 1, options[0].contains("instances=" + instances), options[0]);
            // And the first call's table is lowered by that margin.
            m.accumulateClipped(call(3, new SplittableRandom(1)), ClipPolicy.flat(1.0));
            assertArrayEquals(
                    ClipTable.of(ClipPolicy.flat(1.0), allTensors(), margin.lowering(1.0)), opened[0].tables.get(0));
        }
        assertTrue(opened[0].closed);
    }

    @Test
    void aSessionOfAnotherGraphIsClosedAndRefused() {
        RecordingIpuSession s = new RecordingIpuSession(
                NET.parameterCount() + 1, NET.parameters().size());
        assertThrows(IllegalStateException.class, () -> model(s, allTensors(), 1, false));
        assertTrue(s.closed);
        assertFalse(s.calls.contains("run"));
    }
}
