package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.data.Dataset;
import org.dpsgd.ipu.IpuExecutionPlan.DeviceCall;
import org.dpsgd.ipu.IpuExecutionPlan.ReplicaSlice;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Property-style tests of the IPU host layout over seeded random layouts and Poisson-sampled batches. */
class IpuExecutionPlanTest {
    private static final int N = 2_000;

    /** A random layout and an independently Poisson-sampled logical batch (shuffled, as a sampler may emit it). */
    record Case(long seed, BatchLayout layout, int[] batch) {
        @Override
        public String toString() {
            return "seed=" + seed + " " + layout + " L=" + batch.length;
        }
    }

    static Stream<Case> cases() {
        return LongStream.range(0, 60).mapToObj(seed -> {
            SplittableRandom rng = new SplittableRandom(0xC0FFEE + seed);
            BatchLayout layout = new BatchLayout(1 + rng.nextInt(4), 1 + rng.nextInt(6), 1 + rng.nextInt(5));
            double q = rng.nextInt(10) == 0 ? 0.0005 : rng.nextDouble() * 0.1; // includes empty and tiny batches
            List<Integer> ids = new ArrayList<>();
            for (int i = 0; i < N; i++) if (rng.nextDouble() < q) ids.add(i);
            for (int i = ids.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                ids.set(i, ids.set(j, ids.get(i)));
            }
            return new Case(
                    seed, layout, ids.stream().mapToInt(Integer::intValue).toArray());
        });
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everySampledExampleAppearsExactlyOnce(Case c) {
        IpuExecutionPlan plan = IpuExecutionPlan.of(c.layout(), c.batch());
        List<Integer> seen = new ArrayList<>();
        for (DeviceCall call : plan.calls()) {
            for (int id : call.exampleIds()) if (id != IpuExecutionPlan.PADDING) seen.add(id);
        }
        assertEquals(c.batch().length, seen.size());
        Set<Integer> expected = new HashSet<>();
        for (int id : c.batch()) expected.add(id);
        assertEquals(expected, new HashSet<>(seen));
        // Each slot knows its example's position in the logical batch.
        for (DeviceCall call : plan.calls()) {
            int[] ids = call.exampleIds();
            int[] pos = call.positions();
            for (int s = 0; s < ids.length; s++) {
                if (ids[s] == IpuExecutionPlan.PADDING) assertEquals(-1, pos[s]);
                else assertEquals(c.batch()[pos[s]], ids[s]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void replicasGetEqualWorkWithinOneExample(Case c) {
        BatchLayout l = c.layout();
        for (DeviceCall call : IpuExecutionPlan.of(l, c.batch()).calls()) {
            int min = Integer.MAX_VALUE, max = 0;
            for (int r = 0; r < l.replicas(); r++) {
                int real = 0;
                for (int step = 0; step < l.accumulation(); step++) {
                    for (int pos = 0; pos < l.microBatchSize(); pos++)
                        if (call.exampleAt(r, step, pos) != IpuExecutionPlan.PADDING) real++;
                }
                min = Math.min(min, real);
                max = Math.max(max, real);
            }
            assertTrue(max - min <= 1, "replica loads differ by " + (max - min));
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyCallHasTheSameStaticShapeAndOnlyTheNeededCount(Case c) {
        IpuExecutionPlan plan = IpuExecutionPlan.of(c.layout(), c.batch());
        int per = c.layout().microBatchSize()
                * c.layout().accumulation()
                * c.layout().replicas();
        assertEquals((c.batch().length + per - 1) / per, plan.calls().size());
        for (DeviceCall call : plan.calls()) {
            assertEquals(per, call.slots());
            assertEquals(per, call.mask().length);
        }
        assertEquals(plan.calls().size() * per - c.batch().length, plan.paddingSlots());
        // Only the last call may hold padding, and at most per - 1 slots of it.
        for (int i = 0; i + 1 < plan.calls().size(); i++)
            assertEquals(per, plan.calls().get(i).realCount());
        assertTrue(plan.paddingSlots() < per || plan.calls().isEmpty());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void paddingIsMaskedAndRealSlotsAreNot(Case c) {
        for (DeviceCall call : IpuExecutionPlan.of(c.layout(), c.batch()).calls()) {
            int[] ids = call.exampleIds();
            float[] mask = call.mask();
            int real = 0;
            for (int s = 0; s < ids.length; s++) {
                if (ids[s] == IpuExecutionPlan.PADDING) {
                    assertEquals(0f, mask[s], "padding slot " + s + " must have mask 0");
                } else {
                    assertEquals(1f, mask[s], "real slot " + s + " must have mask 1");
                    real++;
                }
            }
            assertEquals(real, call.realCount());
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void replicaBuffersAreContiguousAndInStreamOrder(Case c) {
        BatchLayout l = c.layout();
        for (DeviceCall call : IpuExecutionPlan.of(l, c.batch()).calls()) {
            int next = 0;
            for (int r = 0; r < l.replicas(); r++) {
                ReplicaSlice slice = call.replica(r);
                assertEquals(next, slice.firstSlot(), "replica slices must tile the call without gaps");
                assertEquals(l.accumulation() * l.microBatchSize(), slice.slotCount());
                // The on-device loop reads A micro-batches of m samples from the stream in order:
                // (step, position) in lexicographic order must walk the slice slot by slot.
                int expected = slice.firstSlot();
                for (int step = 0; step < l.accumulation(); step++) {
                    for (int pos = 0; pos < l.microBatchSize(); pos++) {
                        assertEquals(expected++, l.slot(r, step, pos));
                        assertEquals(call.exampleIds()[l.slot(r, step, pos)], call.exampleAt(r, step, pos));
                    }
                }
                next += slice.slotCount();
                int k = 3, size = 7;
                assertEquals(slice.firstSlot() * k * size, slice.inputOffset(k, size));
                assertEquals(slice.slotCount() * k * size, slice.inputLength(k, size));
            }
            assertEquals(call.slots(), next);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void fixedCallCountKeepsTheNumberOfCallsConstant(Case c) {
        int per = c.layout().slotsPerCall();
        int needed = (c.batch().length + per - 1) / per;
        int fixed = needed + 2;
        IpuExecutionPlan plan = IpuExecutionPlan.of(c.layout(), c.batch(), fixed);
        assertEquals(fixed, plan.calls().size());
        assertEquals(fixed * per - c.batch().length, plan.paddingSlots());
        if (needed > 1) {
            IllegalStateException e = assertThrows(
                    IllegalStateException.class, () -> IpuExecutionPlan.of(c.layout(), c.batch(), needed - 1));
            assertTrue(
                    e.getMessage().contains("max_calls") && e.getMessage().contains("never dropped"), e.getMessage());
        }
    }

    @Test
    void emptyBatchNeedsNoCall() {
        IpuExecutionPlan plan = IpuExecutionPlan.of(new BatchLayout(1, 4, 2), new int[0]);
        assertEquals(0, plan.calls().size());
        assertEquals(0, plan.paddingSlots());
    }

    @Test
    void duplicateOrNegativeIdsAreRefused() {
        BatchLayout l = new BatchLayout(2, 2, 2);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpuExecutionPlan.of(l, new int[] {3, 5, 3}))
                .getMessage()
                .contains("appears twice"));
        assertThrows(IllegalArgumentException.class, () -> IpuExecutionPlan.of(l, new int[] {-2}));
    }

    @Test
    void fillWritesRealSlotsAndZeroesPadding() {
        Shape shape = new Shape(1, 2, 3);
        Dataset data = new Dataset() {
            @Override
            public int size() {
                return 100;
            }

            @Override
            public Shape shape() {
                return shape;
            }

            @Override
            public int numClasses() {
                return 10;
            }

            @Override
            public int label(int index) {
                return index % 10;
            }

            @Override
            public void read(int index, float[] dst, int offset) {
                for (int i = 0; i < shape.size(); i++) dst[offset + i] = index * 100 + i;
            }
        };
        BatchLayout l = new BatchLayout(2, 3, 2);
        int[] ids = {42, 7, 99, 13, 0};
        DeviceCall call = IpuExecutionPlan.of(l, ids).calls().get(0);
        DeviceBatch batch = new DeviceBatch(shape, l.slotsPerCall(), 2);
        java.util.Arrays.fill(batch.inputs(), 123f); // stale data must not survive in padding
        call.fill(data, batch);
        int[] planned = call.exampleIds();
        int realSlots = 0;
        for (int s = 0; s < l.slotsPerCall(); s++) {
            boolean real = planned[s] != IpuExecutionPlan.PADDING;
            if (real) realSlots++;
            assertEquals(real ? 1f : 0f, batch.mask()[s]);
            assertEquals(real ? planned[s] : -1L, batch.exampleIds()[s]);
            assertEquals(real ? planned[s] % 10 : 0, batch.labels()[s]);
            for (int k = 0; k < 2; k++) {
                for (int i = 0; i < shape.size(); i++) {
                    assertEquals(real ? planned[s] * 100 + i : 0f, batch.inputs()[batch.inputOffset(s, k) + i]);
                }
            }
        }
        assertEquals(ids.length, realSlots);
        assertThrows(IllegalArgumentException.class, () -> call.fill(data, new DeviceBatch(shape, 5, 1)));
    }
}
