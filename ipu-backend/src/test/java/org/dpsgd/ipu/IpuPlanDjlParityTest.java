package org.dpsgd.ipu;

import static org.dpsgd.testing.Numerics.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.SyntheticDataset;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Plan parity: the DJL backend executes the IPU plan. The IPU plan's device calls (R replicas x A
 * micro-batches x m slots, replicas one after another, the plan's padding and masks) go through DJL's
 * "microbatch" strategy, one accumulateClipped per call; the logical batch also goes through DJL's own
 * normal path (strategy auto, one device batch holding the whole logical batch). The clipped gradient
 * sums must agree to 1e-4 relative in float32, and the sample and clipped counts exactly: the IPU
 * layout loses, duplicates or leaks nothing.
 */
class IpuPlanDjlParityTest {
    private static final int N = 300;
    private static Backend djl;

    @BeforeAll
    static void openDjl() {
        djl = Backends.select("djl", msg -> {}).open(BackendOptions.cpu());
    }

    @AfterAll
    static void closeDjl() {
        if (djl != null) djl.close();
    }

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("small-cnn", new BatchLayout(1, 4, 2), 1, 11L), // NanoBatch: m = 1
                Arguments.of("small-cnn", new BatchLayout(2, 3, 2), 1, 12L),
                Arguments.of("small-cnn", new BatchLayout(3, 2, 2), 2, 13L), // augmentation multiplicity 2
                Arguments.of("fmnist-cnn", new BatchLayout(1, 5, 3), 1, 14L));
    }

    @ParameterizedTest(name = "{0} {1} K={2}")
    @MethodSource("layouts")
    void ipuPlanThroughDjlMicrobatchEqualsDjlOnTheWholeBatch(
            String model, BatchLayout layout, int multiplicity, long seed) {
        Shape shape = model.equals("fmnist-cnn") ? new Shape(1, 28, 28) : new Shape(1, 8, 8);
        Network net = ModelZoo.build(ModelSpec.of(model), shape, 10);
        Dataset data = new SyntheticDataset(seed, 0, N, shape, 10, 1.0);
        int[] batch = poissonSample(seed, N, 0.08);
        assertTrue(batch.length > layout.slotsPerCall(), "the test needs more than one device call");

        try (TrainableModel viaPlan = model(net, "microbatch", layout);
                TrainableModel whole = model(net, "auto", BatchLayout.of(batch.length))) {
            // A clip norm inside the spread of per-sample norms, so some samples are clipped and some not.
            DeviceBatch all = wholeBatch(data, batch, multiplicity);
            double[] norms = whole.perSampleGradientNorms(all);
            double clip = median(norms);

            BatchStats planStats = BatchStats.EMPTY;
            IpuExecutionPlan plan = IpuExecutionPlan.of(layout, batch);
            DeviceBatch device = new DeviceBatch(shape, layout.slotsPerCall(), multiplicity);
            for (IpuExecutionPlan.DeviceCall call : plan.calls()) {
                call.fill(data, device);
                planStats = planStats.plus(viaPlan.accumulateClipped(device, clip));
            }
            BatchStats wholeStats = whole.accumulateClipped(all, clip);

            float[] a = new float[(int) net.parameterCount()];
            float[] b = new float[a.length];
            viaPlan.drainGradientSum(a);
            whole.drainGradientSum(b);
            double rel = relativeError(a, b);
            assertTrue(rel < 1e-4, "clipped sums differ: relative error " + rel);
            assertEquals(batch.length, planStats.samples());
            assertEquals(wholeStats.samples(), planStats.samples());
            assertEquals(wholeStats.clipped(), planStats.clipped());
            assertTrue(
                    wholeStats.clipped() > 0 && wholeStats.clipped() < batch.length,
                    "clip norm must clip some samples");
            assertEquals(wholeStats.lossSum(), planStats.lossSum(), 1e-4 * Math.abs(wholeStats.lossSum()));
            assertEquals(wholeStats.correct(), planStats.correct());
        }
    }

    /**
     * What cifar10-wrn16-4 needs on the IPU (weight standardisation, frozen layers) and per-layer clipping,
     * through the IPU plan: the plan's calls via DJL microbatch equal DJL on the whole batch, flat and per
     * layer.
     */
    @org.junit.jupiter.api.Test
    void frozenWeightStandardisedAndPerLayerClippedThroughTheIpuPlan() {
        Shape shape = new Shape(3, 8, 8);
        Network net = ModelZoo.build(new ModelSpec("small-cnn", null, null, null, true), shape, 10);
        Dataset data = new SyntheticDataset(21, 0, N, shape, 10, 1.0);
        int[] batch = poissonSample(21, N, 0.06);
        BatchLayout layout = new BatchLayout(2, 2, 2);
        List<String> frozen = List.of("conv1");
        int n = net.parameters().size();
        int[] groupOf = new int[n];
        for (int i = 0; i < n; i++) groupOf[i] = i % 3;
        try (TrainableModel viaPlan = djl.createModel(
                        net, new ModelOptions("microbatch", layout, frozen, Map.of("dtype", "float32", "seed", "3")));
                TrainableModel whole = djl.createModel(
                        net,
                        new ModelOptions(
                                "auto",
                                BatchLayout.of(batch.length),
                                frozen,
                                Map.of("dtype", "float32", "seed", "3")))) {
            DeviceBatch all = wholeBatch(data, batch, 1);
            double median = median(whole.perSampleGradientNorms(all));
            ClipPolicy flat = ClipPolicy.flat(median);
            ClipPolicy perLayer = new ClipPolicy(new double[] {median / 2, median / 3, median / 4}, groupOf);
            for (ClipPolicy policy : List.of(flat, perLayer)) {
                BatchStats planStats = BatchStats.EMPTY;
                DeviceBatch device = new DeviceBatch(shape, layout.slotsPerCall(), 1);
                for (IpuExecutionPlan.DeviceCall call :
                        IpuExecutionPlan.of(layout, batch).calls()) {
                    call.fill(data, device);
                    planStats = planStats.plus(viaPlan.accumulateClipped(device, policy));
                }
                BatchStats wholeStats = whole.accumulateClipped(all, policy);
                float[] a = new float[(int) net.parameterCount()];
                float[] b = new float[a.length];
                viaPlan.drainGradientSum(a);
                whole.drainGradientSum(b);
                assertTrue(relativeError(a, b) < 1e-4, policy + ": clipped sums differ: " + relativeError(a, b));
                assertEquals(wholeStats.samples(), planStats.samples());
                assertEquals(wholeStats.clipped(), planStats.clipped());
                // Frozen coordinates: exactly zero in both.
                int[] offsets = net.parameterOffsets();
                for (int i = 0; i < n; i++) {
                    if (!net.parameters().get(i).name().startsWith("conv1")) continue;
                    for (int j = offsets[i];
                            j < offsets[i] + net.parameters().get(i).size();
                            j++) assertEquals(0f, a[j]);
                }
            }
        }
    }

    private static TrainableModel model(Network net, String strategy, BatchLayout layout) {
        return djl.createModel(
                net, new ModelOptions(strategy, layout, List.of(), Map.of("dtype", "float32", "seed", "3")));
    }

    private static DeviceBatch wholeBatch(Dataset data, int[] ids, int multiplicity) {
        DeviceBatch b = new DeviceBatch(data.shape(), ids.length, multiplicity);
        for (int s = 0; s < ids.length; s++) {
            for (int k = 0; k < multiplicity; k++) data.read(ids[s], b.inputs(), b.inputOffset(s, k));
            b.labels()[s] = data.label(ids[s]);
            b.mask()[s] = 1f;
            b.exampleIds()[s] = ids[s];
        }
        return b;
    }

    private static int[] poissonSample(long seed, int n, double q) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) if (rng.nextDouble() < q) ids.add(i);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
