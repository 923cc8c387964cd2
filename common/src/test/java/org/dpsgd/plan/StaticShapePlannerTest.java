package org.dpsgd.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class StaticShapePlannerTest {
    /** 40 random (layout, batch) cases from a seeded generator. */
    static Stream<Arguments> cases() {
        return IntStream.range(0, 40).mapToObj(seed -> {
            SplittableRandom r = new SplittableRandom(seed);
            BatchLayout layout = new BatchLayout(1 + r.nextInt(8), 1 + r.nextInt(4), 1 + r.nextInt(4));
            int n = 1 + r.nextInt(500);
            double q = r.nextDouble();
            int[] batch = IntStream.range(0, n).filter(i -> r.nextDouble() < q).toArray();
            if (seed % 7 == 0) batch = new int[0];
            return Arguments.of(layout, batch);
        });
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyExampleExactlyOnceInIdenticallyShapedCalls(BatchLayout layout, int[] batch) {
        StepPlan plan = new StaticShapePlanner(layout).plan(batch);
        int s = layout.slotsPerCall();
        assertEquals((batch.length + s - 1) / s, plan.calls().size(), "ceil(L / slots) calls");
        assertEquals(batch.length, plan.realizedSize());
        int[] seen = new int[batch.length];
        int real = 0;
        for (DeviceCall c : plan.calls()) {
            assertEquals(s, c.slots(), "every call has the same shape");
            for (int k = 0; k < s; k++) {
                if (c.isPadding(k)) {
                    assertEquals(-1, c.positions()[k], "padding has no logical position");
                    continue;
                }
                real++;
                int pos = c.positions()[k];
                assertEquals(batch[pos], c.exampleIds()[k], "slot id agrees with its logical position");
                seen[pos]++;
            }
        }
        assertEquals(batch.length, real);
        for (int v : seen) assertEquals(1, v, "each sampled example exactly once");
        assertEquals(plan.calls().size() * s - batch.length, plan.paddingSlots());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void slotsFollowBatchLayoutSlotDealtRoundRobinOverReplicas(BatchLayout layout, int[] batch) {
        StepPlan plan = new StaticShapePlanner(layout).plan(batch);
        int s = layout.slotsPerCall();
        int m = layout.microBatchSize(), a = layout.accumulation(), rep = layout.replicas();
        for (int c = 0; c < plan.calls().size(); c++) {
            DeviceCall call = plan.calls().get(c);
            int[] perReplica = new int[rep];
            for (int r = 0; r < rep; r++) {
                for (int st = 0; st < a; st++) {
                    for (int p = 0; p < m; p++) {
                        int slot = layout.slot(r, st, p);
                        int k = (st * m + p) * rep + r; // k-th example of this call
                        int expectedPos = c * s + k;
                        if (expectedPos < batch.length) {
                            assertEquals(expectedPos, call.positions()[slot]);
                            perReplica[r]++;
                        } else {
                            assertTrue(call.isPadding(slot));
                        }
                    }
                }
            }
            int max = IntStream.of(perReplica).max().orElse(0),
                    min = IntStream.of(perReplica).min().orElse(0);
            assertTrue(max - min <= 1, "replicas balanced to within one example");
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void maxCallsPadsToAFixedCount(BatchLayout layout, int[] batch) {
        int needed = (batch.length + layout.slotsPerCall() - 1) / layout.slotsPerCall();
        int max = needed + 2;
        StepPlan plan = new StaticShapePlanner(layout, max).plan(batch);
        assertEquals(max, plan.calls().size());
        assertEquals(
                batch.length,
                plan.calls().stream().mapToInt(DeviceCall::realCount).sum());
    }

    @Test
    void emptyBatchIsNoiseOnly() {
        assertEquals(
                0,
                new StaticShapePlanner(new BatchLayout(4, 2, 2))
                        .plan(new int[0])
                        .calls()
                        .size());
        StepPlan fixed = new StaticShapePlanner(new BatchLayout(4, 2, 2), 3).plan(new int[0]);
        assertEquals(3, fixed.calls().size());
        assertEquals(0, fixed.calls().stream().mapToInt(DeviceCall::realCount).sum());
    }

    @Test
    void overflowingMaxCallsIsRefusedNotTruncated() {
        StaticShapePlanner p = new StaticShapePlanner(BatchLayout.of(4), 2);
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> p.plan(IntStream.range(0, 9).toArray()));
        assertTrue(e.getMessage().contains("raise maxCalls"), e.getMessage());
    }
}
