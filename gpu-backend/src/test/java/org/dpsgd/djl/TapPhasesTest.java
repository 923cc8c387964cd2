package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicies;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.config.PerLayerClipping;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link TapPhases}: the book-keeping taps on two threads give the sequential path's results bit for
 * bit (norms, clip decisions, clipped sums), close every array as the sequential path does, and fail
 * as it fails.
 */
class TapPhasesTest {
    record Case(
            String label,
            ModelSpec spec,
            String input,
            String dtype,
            int copies,
            List<String> frozen,
            boolean perLayer,
            boolean poisoned) {
        @Override
        public String toString() {
            return label + " " + input + " " + dtype + " K=" + copies + (frozen.isEmpty() ? "" : " frozen=" + frozen)
                    + (perLayer ? " per-layer" : "") + (poisoned ? " non-finite slots" : "");
        }
    }

    static Stream<Arguments> cases() {
        ModelSpec small = ModelSpec.of("small-cnn");
        ModelSpec r18 = ModelSpec.of("resnet18-gn").withStem("cifar");
        return Stream.of(
                        new Case("small-cnn", small, "1x28x28", "float64", 1, List.of(), false, false),
                        new Case("small-cnn", small, "1x28x28", "float32", 1, List.of(), false, false),
                        new Case("small-cnn", small, "1x28x28", "float32", 2, List.of(), true, false),
                        new Case("small-cnn", small, "1x16x16", "float32", 1, List.of(), false, true),
                        new Case("small-cnn", small, "1x16x16", "float64", 2, List.of("conv1"), true, true),
                        new Case(
                                "fmnist-cnn",
                                ModelSpec.of("fmnist-cnn"),
                                "1x28x28",
                                "float32",
                                2,
                                List.of(),
                                false,
                                false),
                        new Case("resnet18-gn", r18, "3x8x8", "float64", 1, List.of(), true, false),
                        new Case(
                                "resnet18-gn",
                                ModelSpec.of("resnet18-gn"),
                                "3x16x16",
                                "float32",
                                2,
                                List.of("conv1", "bn1", "layer1"),
                                false,
                                false),
                        new Case("resnet18-gn", r18, "3x8x8", "float32", 1, List.of(), true, true),
                        new Case(
                                "wrn16-4",
                                ModelSpec.of("wrn16-4"),
                                "3x8x8",
                                "float64",
                                2,
                                List.of("layer1.0.conv1"),
                                false,
                                false),
                        new Case("small-cnn", small, "1x16x16", "fp16", 1, List.of(), false, false))
                .map(Arguments::of);
    }

    /** What one model computes over a few steps: norms, stats and drained float64 sums, as raw bits. */
    private static List<long[]> run(Case c, Network net, TapPhases.Mode mode) {
        List<long[]> out = new ArrayList<>();
        try (DjlTrainableModel m = TestSupport.model(net, "bookkeeping", c.dtype(), c.frozen())) {
            m.runtime().taps = new TapPhases(true, Device.cpu(), mode);
            ClipPolicy policy = c.perLayer()
                    ? ClipPolicies.from(
                            PrivacyConfig.withSigma(0.5, 1.0, 1e-5)
                                    .withClipping(new PerLayerClipping("sqrt_params", null, "tensor")),
                            net,
                            c.frozen())
                    : ClipPolicy.flat(0.5);
            int n = (int) net.parameterCount();
            for (int step = 0; step < 3; step++) {
                DeviceBatch b = TestSupport.batch(net, 6, c.copies(), 31 + step, 1.0 + step, 5);
                if (c.poisoned()) {
                    b.inputs()[b.inputOffset(1, 0) + 3] = Float.NaN;
                    b.inputs()[b.inputOffset(4, c.copies() - 1) + 7] = Float.POSITIVE_INFINITY;
                }
                out.add(bits(m.perSampleGradientNorms(b)));
                // Two calls into one step's accumulators, then a drain: the second call adds to the first's sums.
                for (int call = 0; call < 2; call++) {
                    BatchStats s = m.accumulateClipped(b, policy);
                    out.add(new long[] {
                        s.samples(),
                        s.clipped(),
                        s.nonFinite(),
                        s.correct(),
                        Double.doubleToRawLongBits(s.lossSum()),
                        Double.doubleToRawLongBits(s.normSum())
                    });
                }
                double[] sum = new double[n];
                m.drainGradientSum(sum);
                out.add(bits(sum));
            }
        }
        return out;
    }

    private static long[] bits(double[] v) {
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Double.doubleToRawLongBits(v[i]);
        return b;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void twoThreadsGiveTheSequentialBits(Case c) {
        assumeTrue(TestSupport.supports(c.dtype()), c.dtype() + " is not available on this engine");
        Network net = ModelZoo.build(c.spec(), org.dpsgd.model.Shape.parse(c.input()), 10);
        long before = TapPhases.WORKER_PIECES.get();
        List<long[]> one = run(c, net, TapPhases.Mode.NEVER);
        assertEquals(before, TapPhases.WORKER_PIECES.get(), "NEVER runs nothing on the worker");
        List<long[]> two = run(c, net, TapPhases.Mode.ALWAYS);
        assertTrue(TapPhases.WORKER_PIECES.get() > before, "ALWAYS runs a share of the taps on the worker");
        assertEquals(one.size(), two.size());
        boolean anyClipped = false;
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i), two.get(i), "result " + i + " (norms, stats, sums per step) differs");
            if (one.get(i).length == 6 && one.get(i)[1] > 0) anyClipped = true;
        }
        assertTrue(anyClipped, "the case clips some slots, so the factors are exercised");
    }

    /** The cases at two intra-op threads (the machine's setting; the suite runs at one), worker included. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void twoThreadsGiveTheSequentialBitsAtTwoIntraOpThreads(Case c) {
        TestSupport.backend();
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(2);
        try {
            twoThreadsGiveTheSequentialBits(c);
            AtomicInteger workerThreads = new AtomicInteger();
            try {
                TapWorker.submit(() -> workerThreads.set(JniUtils.getNumThreads()))
                        .get();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertEquals(2, workerThreads.get(), "the worker ran at the caller's thread count");
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    @Test
    void noArrayOutlivesAStepOnTwoThreads() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), org.dpsgd.model.Shape.parse("1x16x16"), 10);
        try (DjlTrainableModel m = TestSupport.model(net, "bookkeeping", "float32", List.of())) {
            m.runtime().taps = new TapPhases(true, Device.cpu(), TapPhases.Mode.ALWAYS);
            NDManager manager = m.runtime().manager;
            int n = (int) net.parameterCount();
            int[] open = new int[12];
            for (int step = 0; step < open.length; step++) {
                DeviceBatch b = TestSupport.batch(net, 8, 1, 50 + step, 1.0, 7);
                m.accumulateClipped(b, 0.5);
                m.drainGradientSum(new double[n]);
                open[step] = manager.getManagedArrays().size();
            }
            // After the first steps (constants, compiled kernels), every step leaves exactly what it found.
            for (int step = 3; step < open.length; step++)
                assertEquals(open[2], open[step], "open arrays after step " + step);
            m.runtime().taps = new TapPhases(true, Device.cpu(), TapPhases.Mode.NEVER);
            m.accumulateClipped(TestSupport.batch(net, 8, 1, 99, 1.0, 7), 0.5);
            m.drainGradientSum(new double[n]);
            assertEquals(open[2], manager.getManagedArrays().size(), "the sequential path leaves as many open");
        }
    }

    /** A tap that records where and how it ran, adds a fixed norm, keeps one array, and may throw. */
    private static final class FakeTap implements Tap {
        final int index;
        final int[] params;
        final RuntimeException failure;
        final List<String> log;
        NDArray kept;
        NDArray temp;
        String thread;
        boolean gradMode;

        FakeTap(int index, int[] params, RuntimeException failure, List<String> log) {
            this.index = index;
            this.params = params;
            this.failure = failure;
            this.log = log;
        }

        @Override
        public List<NDArray> harvest() {
            return List.of();
        }

        @Override
        public void measure(SlotNorms norms) {
            thread = Thread.currentThread().getName();
            gradMode = JniUtils.isGradMode();
            if (failure != null) throw failure;
            temp = fakeManager.ones(new Shape(3)).mul(index + 1);
            kept = temp.add(0.5);
            norms.add(0, temp.mul(temp));
        }

        @Override
        public void accumulateClipped(ClipFactors factors) {
            thread = Thread.currentThread().getName();
            log.add("acc" + index);
            if (failure != null) throw failure;
        }

        @Override
        public List<NDArray> kept() {
            return List.of(kept);
        }

        @Override
        public int[] parameters() {
            return params;
        }
    }

    private static volatile NDManager fakeManager;

    private static <T> T withManager(java.util.function.Function<NDManager, T> body) {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            fakeManager = m;
            return body.apply(m);
        }
    }

    @Test
    void theWorkerRunsItsShareWithoutGradAndHandsItsKeptArraysToTheStep() {
        withManager(m -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            List<Tap> taps = List.of(
                    new FakeTap(0, new int[] {0}, null, log),
                    new FakeTap(1, new int[] {1}, null, log),
                    new FakeTap(2, new int[] {2}, null, log));
            long[] cost = {10, 10, 1}; // tap 1 goes to the worker
            TapPhases phases = new TapPhases(true, Device.cpu(), TapPhases.Mode.ALWAYS);
            SlotNorms sn = new SlotNorms(ClipPolicy.flat(1.0), 3);
            try (NDScope step = new NDScope()) {
                step.suppressNotUsedWarning();
                ModelRuntime.withoutGrad(() -> {
                    phases.measure(taps, cost, sn);
                    return null;
                });
                FakeTap worker = (FakeTap) taps.get(1);
                assertEquals("dpsgd-tap-worker", worker.thread);
                assertFalse(worker.gradMode, "grad mode is off on the worker too");
                assertEquals(Thread.currentThread().getName(), ((FakeTap) taps.get(0)).thread);
                for (Tap t : taps) {
                    assertTrue(((FakeTap) t).temp.isReleased(), "a piece's temporaries close with it");
                    assertFalse(((FakeTap) t).kept.isReleased(), "a kept array lives on");
                }
                // 1 + 4 + 9 per slot: the three taps' adds, summed on the caller.
                assertArrayEquals(new double[] {14, 14, 14}, sn.squared()[0]);
            }
            for (Tap t : taps) assertTrue(((FakeTap) t).kept.isReleased(), "kept arrays close with the step");
            return null;
        });
    }

    @Test
    void aFailureOnEitherThreadReachesTheCallerAsTheSequentialPathWouldThrowIt() {
        withManager(m -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            TapPhases phases = new TapPhases(true, Device.cpu(), TapPhases.Mode.ALWAYS);
            long[] cost = {10, 10, 1};
            IllegalStateException onWorker = new IllegalStateException("worker's tap");
            IllegalStateException onCaller = new IllegalStateException("caller's tap");
            try (NDScope step = new NDScope()) {
                step.suppressNotUsedWarning();
                List<Tap> workerFails = List.of(
                        new FakeTap(0, new int[] {0}, null, log),
                        new FakeTap(1, new int[] {1}, onWorker, log),
                        new FakeTap(2, new int[] {2}, null, log));
                SlotNorms sn = new SlotNorms(ClipPolicy.flat(1.0), 3);
                assertSame(
                        onWorker,
                        assertThrows(IllegalStateException.class, () -> phases.measure(workerFails, cost, sn)));
                assertTrue(((FakeTap) workerFails.get(2)).kept != null, "the caller's share still ran");
                // Both fail: tap 0 (caller) comes first in tap order; the worker's failure is kept as suppressed.
                List<Tap> bothFail = List.of(
                        new FakeTap(0, new int[] {0}, onCaller, log),
                        new FakeTap(1, new int[] {1}, onWorker, log),
                        new FakeTap(2, new int[] {2}, null, log));
                IllegalStateException e = assertThrows(
                        IllegalStateException.class,
                        () -> phases.measure(bothFail, cost, new SlotNorms(ClipPolicy.flat(1.0), 3)));
                assertSame(onCaller, e);
                assertEquals(1, e.getSuppressed().length);
                assertSame(onWorker, e.getSuppressed()[0]);
            }
            return null;
        });
    }

    @Test
    void clippedSumsOfTapsSharingAParameterStayOnTheCaller() {
        withManager(m -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            List<Tap> shared = List.of(
                    new FakeTap(0, new int[] {0, 1}, null, log),
                    new FakeTap(1, new int[] {2}, null, log),
                    new FakeTap(2, new int[] {1}, null, log));
            TapPhases phases = new TapPhases(true, Device.cpu(), TapPhases.Mode.ALWAYS);
            phases.accumulate(shared, new long[] {10, 10, 1}, null);
            for (Tap t : shared) assertEquals(Thread.currentThread().getName(), ((FakeTap) t).thread);
            assertEquals(List.of("acc0", "acc1", "acc2"), log, "in tap order");
            assertFalse(TapPhases.disjoint(shared));
            log.clear();
            List<Tap> apart = List.of(
                    new FakeTap(0, new int[] {0, 1}, null, log),
                    new FakeTap(1, new int[] {2}, null, log),
                    new FakeTap(2, new int[] {3}, null, log));
            phases.accumulate(apart, new long[] {10, 10, 1}, null);
            assertEquals("dpsgd-tap-worker", ((FakeTap) apart.get(1)).thread);
            return null;
        });
    }

    @Test
    void autoUsesTwoThreadsOnlyForSmallTapsOnTheCpuWithTwoIntraOpThreads() {
        TestSupport.backend();
        int before = JniUtils.getNumThreads();
        try {
            JniUtils.setNumThreads(2);
            TapPhases auto = new TapPhases(true, Device.cpu(), TapPhases.Mode.AUTO);
            long limit = TapPhases.AUTO_MAX_ELEMENTS;
            assertTrue(auto.twoThreads(new long[] {limit / 2, limit / 2}));
            assertFalse(auto.twoThreads(new long[] {limit / 2, limit / 2 + 1}), "large taps stay on one thread");
            assertTrue(new TapPhases(true, Device.cpu(), TapPhases.Mode.ALWAYS).twoThreads(new long[] {limit, 1}));
            assertFalse(new TapPhases(false, Device.cpu(), TapPhases.Mode.AUTO).twoThreads(new long[] {1, 1}), "off");
            assertFalse(new TapPhases(false, Device.cpu(), TapPhases.Mode.ALWAYS).twoThreads(new long[] {1, 1}));
            assertFalse(new TapPhases(true, Device.gpu(0), TapPhases.Mode.AUTO).twoThreads(new long[] {1, 1}), "GPU");
            JniUtils.setNumThreads(1);
            assertFalse(auto.twoThreads(new long[] {1, 1}), "one intra-op thread");
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    @Test
    void theSplitIsFixedAndBalanced() {
        assertNull(TapPhases.split(new long[] {5}), "one tap: nothing for the worker");
        assertArrayEquals(new boolean[] {false, true, true}, TapPhases.split(new long[] {10, 6, 4}));
        // small-cnn's shape: conv1, conv2, GroupNorm, fc by elements read.
        boolean[] s = TapPhases.split(new long[] {900_000, 1_200_000, 100_000, 300_000});
        assertArrayEquals(new boolean[] {true, false, false, true}, s); // 1.2 M against 0.9 M + 0.3 M
        assertArrayEquals(s, TapPhases.split(new long[] {900_000, 1_200_000, 100_000, 300_000}));
    }

    @Test
    void aRecorderReplaysTheSumsOfDirectAdds() {
        withManager(m -> {
            SplittableRandom r = new SplittableRandom(3);
            ClipPolicy policy = ClipPolicy.flat(1.0);
            int slots = 5;
            SlotNorms direct = new SlotNorms(policy, slots);
            SlotNorms replayed = new SlotNorms(policy, slots);
            for (int tap = 0; tap < 6; tap++) {
                double[] a = new double[slots];
                double[] b = new double[slots];
                for (int i = 0; i < slots; i++) {
                    a[i] = r.nextDouble() * Math.pow(10, r.nextInt(-8, 8));
                    b[i] = r.nextDouble() * Math.pow(10, r.nextInt(-8, 8));
                }
                Consumer<SlotNorms> adds = sn -> {
                    sn.add(0, m.create(a).toType(ai.djl.ndarray.types.DataType.FLOAT32, false));
                    sn.addUnformed(0, m.create(b), m.create(a), 1e-7, 3e-7);
                };
                adds.accept(direct);
                SlotNorms rec = replayed.recorder();
                adds.accept(rec);
                rec.replayInto(replayed);
            }
            assertArrayEquals(bits(direct.squared()[0]), bits(replayed.squared()[0]));
            assertArrayEquals(bits(direct.normSlack()[0]), bits(replayed.normSlack()[0]));
            assertArrayEquals(bits(direct.sumSlack()[0]), bits(replayed.sumSlack()[0]));
            return null;
        });
    }
}
