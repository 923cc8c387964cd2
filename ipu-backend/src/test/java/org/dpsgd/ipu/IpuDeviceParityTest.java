package org.dpsgd.ipu;

import static org.dpsgd.testing.Numerics.relativeError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.SyntheticDataset;
import org.dpsgd.model.Initializer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The native IPU graph against the DJL reference on the same IPU plan, parameters and clip norm: the
 * clipped sums must agree to 1e-4 relative (fp32), DJL running at the bound the IPU effectively clips
 * at (C (1 - 2^-10), the IPU's rounding margin, docs/ipu.md), and the per-slot norms, sample and
 * clipped counts must match (the clip norm lies midway between two slots' norms, so no slot sits in
 * the margin's sliver). Also: frozen layers and weight standardisation, per-layer clipping, a NaN slot (adds 0,
 * counted), fp16 with loss scaling (the clipped sum's per-example bound holds), and an example's clipped
 * contribution the same bits in any slot and call (the coupling margin's premise). Runs only where the IPU backend is available: an IPU, or the IPU Model simulator
 * (Poplar SDK + DPSGD_IPU_MODEL=1). Elsewhere it is skipped with the availability reason; it is the
 * first test to run on an SDK machine (docs/ipu.md).
 */
class IpuDeviceParityTest {

    @ParameterizedTest(name = "micro-batch {0}")
    @ValueSource(ints = {1, 2})
    void ipuGraphMatchesDjlOnTheSamePlan(int microBatch) {
        IpuBackendProvider provider = new IpuBackendProvider();
        Availability a = provider.availability();
        assumeTrue(a.available(), "IPU backend unavailable here: " + a.reason());

        Shape shape = new Shape(1, 8, 8);
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), shape, 10);
        Dataset data = new SyntheticDataset(5, 0, 200, shape, 10, 1.0);
        BatchLayout layout = new BatchLayout(microBatch, 3, 1);
        int[] batch = poissonSample(17, 200, 0.08);
        float[] params = Initializer.initialize(net, 3);

        try (Backend ipu = provider.open(new BackendOptions("ipu", Map.of("replicas", "1", "precision", "fp32")));
                Backend djl = Backends.select("djl", msg -> {}).open(BackendOptions.cpu());
                TrainableModel onIpu = ipu.createModel(net, new ModelOptions("auto", layout, List.of(), Map.of()));
                TrainableModel reference = djl.createModel(
                        net, new ModelOptions("microbatch", layout, List.of(), Map.of("dtype", "float32")))) {
            onIpu.writeParameters(params);
            reference.writeParameters(params);
            float[] back = new float[params.length];
            onIpu.readParameters(back);
            assertEquals(0.0, relativeError(back, params), "parameters must round-trip unchanged");

            IpuExecutionPlan plan = IpuExecutionPlan.of(layout, batch);
            DeviceBatch device = new DeviceBatch(shape, layout.slotsPerCall(), 1);
            plan.calls().get(0).fill(data, device);
            double[] normsIpu = onIpu.perSampleGradientNorms(device);
            double[] normsRef = reference.perSampleGradientNorms(device);
            List<Double> real = new ArrayList<>();
            for (int s = 0; s < device.slots(); s++) {
                if (device.mask()[s] == 0f) continue;
                assertEquals(normsRef[s], normsIpu[s], 1e-4 * normsRef[s], "norm of slot " + s);
                real.add(normsRef[s]);
            }
            double[] sorted =
                    real.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double clip = 0.5 * (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]);

            // A step of several calls: the model must be told the step bound (its coupling margin covers it).
            onIpu.boundStepExamples(batch.length);
            double mu = ((IpuTrainableModel) onIpu).margin().lowering(clip).doubleValue();
            BatchStats si = BatchStats.EMPTY, sr = BatchStats.EMPTY;
            for (IpuExecutionPlan.DeviceCall call : plan.calls()) {
                call.fill(data, device);
                si = si.plus(onIpu.accumulateClipped(device, clip));
                sr = sr.plus(reference.accumulateClipped(device, clip * (1 - mu) * (1 - CLIP_MARGIN)));
            }
            float[] gi = new float[params.length];
            float[] gr = new float[params.length];
            onIpu.drainGradientSum(gi);
            reference.drainGradientSum(gr);
            assertTrue(relativeError(gi, gr) < 1e-4, "clipped sums differ: " + relativeError(gi, gr));
            assertEquals(sr.samples(), si.samples());
            assertEquals(sr.clipped(), si.clipped());
            assertEquals(sr.lossSum(), si.lossSum(), 1e-4 * Math.abs(sr.lossSum()));
        }
    }

    /** native/include/dpsgd_ipu/ClipExpr.hpp kMargin. */
    static final double CLIP_MARGIN = 1.0 / 1024;

    /** A NaN anywhere in a real slot's inputs: that slot adds exactly 0 (as if masked) and is counted; other slots are untouched. */
    @ParameterizedTest(name = "precision {0}")
    @ValueSource(strings = {"fp32", "fp16"})
    void aNonFiniteSlotAddsNothingAndIsCounted(String precision) {
        IpuBackendProvider provider = new IpuBackendProvider();
        Availability a = provider.availability();
        assumeTrue(a.available(), "IPU backend unavailable here: " + a.reason());
        Shape shape = new Shape(1, 8, 8);
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), shape, 10);
        Dataset data = new SyntheticDataset(5, 0, 200, shape, 10, 1.0);
        BatchLayout layout = new BatchLayout(1, 4, 1);
        float[] params = Initializer.initialize(net, 3);
        try (Backend ipu = provider.open(new BackendOptions("ipu", Map.of("precision", precision)));
                TrainableModel m = ipu.createModel(net, new ModelOptions("auto", layout, List.of(), Map.of()))) {
            m.writeParameters(params);
            IpuExecutionPlan plan = IpuExecutionPlan.of(layout, new int[] {1, 2, 3});
            DeviceBatch device = new DeviceBatch(shape, layout.slotsPerCall(), 1);
            plan.calls().get(0).fill(data, device);
            int size = shape.size();
            device.inputs()[size] = Float.NaN; // slot 1: real
            device.inputs()[3 * size] = Float.POSITIVE_INFINITY; // slot 3: padding
            m.accumulateClipped(device, 0.5);
            float[] withNaN = new float[params.length];
            m.drainGradientSum(withNaN);
            assertEquals(1, ((IpuTrainableModel) m).nonFiniteExamples());
            device.mask()[1] = 0f;
            m.accumulateClipped(device, 0.5);
            float[] masked = new float[params.length];
            m.drainGradientSum(masked);
            for (int i = 0; i < masked.length; i++) {
                assertTrue(Float.isFinite(withNaN[i]), "NaN reached the sum at " + i);
                assertEquals(masked[i], withNaN[i], "coordinate " + i);
            }
            // Each real example's clipped contribution has norm <= C (here: the two remaining real slots, 2C in all).
            double norm = 0;
            for (float v : masked) norm += (double) v * v;
            assertTrue(Math.sqrt(norm) <= 2 * 0.5, "clipped sum of two examples above 2C: " + Math.sqrt(norm));
        }
    }

    /** Frozen layers, weight standardisation and (where DJL has it) per-layer clipping against DJL on the same plan. */
    @org.junit.jupiter.api.Test
    void frozenLayersWeightStandardisationAndPerLayerClippingMatchDjl() {
        IpuBackendProvider provider = new IpuBackendProvider();
        Availability a = provider.availability();
        assumeTrue(a.available(), "IPU backend unavailable here: " + a.reason());
        Shape shape = new Shape(3, 8, 8);
        Network net = ModelZoo.build(new ModelSpec("small-cnn", null, null, null, true), shape, 10);
        Dataset data = new SyntheticDataset(7, 0, 200, shape, 10, 1.0);
        BatchLayout layout = new BatchLayout(2, 2, 1);
        float[] params = Initializer.initialize(net, 4);
        List<String> frozen = List.of("conv1");
        int n = net.parameters().size();
        int[] groupOf = new int[n];
        for (int i = 0; i < n; i++) groupOf[i] = i / 2 % 3;
        org.dpsgd.backend.ClipPolicy perLayer =
                new org.dpsgd.backend.ClipPolicy(new double[] {0.02, 0.05, 0.1}, groupOf);
        try (Backend ipu = provider.open(new BackendOptions("ipu", Map.of()));
                Backend djl = Backends.select("djl", msg -> {}).open(BackendOptions.cpu());
                TrainableModel onIpu = ipu.createModel(net, new ModelOptions("auto", layout, frozen, Map.of()));
                TrainableModel reference = djl.createModel(
                        net, new ModelOptions("microbatch", layout, frozen, Map.of("dtype", "float32")))) {
            onIpu.writeParameters(params);
            reference.writeParameters(params);
            int[] drawn = poissonSample(3, 200, 0.05);
            IpuExecutionPlan plan = IpuExecutionPlan.of(layout, drawn);
            DeviceBatch device = new DeviceBatch(shape, layout.slotsPerCall(), 1);
            onIpu.boundStepExamples(drawn.length);
            for (org.dpsgd.backend.ClipPolicy policy : List.of(org.dpsgd.backend.ClipPolicy.flat(0.05), perLayer)) {
                double mu = ((IpuTrainableModel) onIpu)
                        .margin()
                        .lowering(policy.sensitivity())
                        .doubleValue();
                for (IpuExecutionPlan.DeviceCall call : plan.calls()) {
                    call.fill(data, device);
                    onIpu.accumulateClipped(device, policy);
                    try {
                        reference.accumulateClipped(device, lowered(policy, mu));
                    } catch (UnsupportedOperationException e) {
                        assumeTrue(false, "the DJL backend here has no per-layer clipping: " + e.getMessage());
                    }
                }
                float[] gi = new float[params.length], gr = new float[params.length];
                onIpu.drainGradientSum(gi);
                reference.drainGradientSum(gr);
                assertTrue(relativeError(gi, gr) < 1e-4, policy + ": clipped sums differ: " + relativeError(gi, gr));
            }
        }
    }

    /**
     * The coupling margin (docs/ipu.md "The coupling margin") writes S(D) − S(D') = t_i + A − A': every
     * other example's clipped value t_j must be the same bits whichever slot, micro-batch or call the
     * repacking puts it in, and whoever sits beside it (the IPU analogue of the DJL backend's
     * SlotPositionTest). Here: the same norm beside other neighbours, and the same clipped contribution
     * alone among padding in the first slot, in the last, and in the second call of a step.
     */
    @ParameterizedTest(name = "micro-batch {0}")
    @ValueSource(ints = {1, 2})
    void anExampleGetsTheSameNormAndClippedContributionInAnySlotAndCall(int microBatch) {
        IpuBackendProvider provider = new IpuBackendProvider();
        Availability a = provider.availability();
        assumeTrue(a.available(), "IPU backend unavailable here: " + a.reason());
        Shape shape = new Shape(1, 8, 8);
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), shape, 10);
        BatchLayout layout = new BatchLayout(microBatch, 4 / microBatch, 1);
        int slots = layout.slotsPerCall();
        float[] params = Initializer.initialize(net, 5);
        try (Backend ipu = provider.open(new BackendOptions("ipu", Map.of("replicas", "1", "precision", "fp32")));
                TrainableModel m = ipu.createModel(net, new ModelOptions("auto", layout, List.of(), Map.of()))) {
            m.writeParameters(params);
            DeviceBatch first = randomBatch(shape, slots, 11);
            DeviceBatch moved = randomBatch(shape, slots, 12);
            copySlot(first, 0, moved, slots - 1);
            double normHere = m.perSampleGradientNorms(first)[0];
            double normThere = m.perSampleGradientNorms(moved)[slots - 1];
            assertEquals(
                    Double.doubleToLongBits(normHere),
                    Double.doubleToLongBits(normThere),
                    "norm " + normHere + " vs " + normThere);

            double clip = normHere / 2; // clipped, so the factor is exercised too
            float[] inFirstSlot = alone(m, net, first, 0, clip, false);
            float[] inLastSlot = alone(m, net, first, slots - 1, clip, false);
            float[] inSecondCall = alone(m, net, first, 1, clip, true);
            for (int i = 0; i < inFirstSlot.length; i++) {
                assertEquals(Float.floatToIntBits(inFirstSlot[i]), Float.floatToIntBits(inLastSlot[i]), "slot, " + i);
                assertEquals(Float.floatToIntBits(inFirstSlot[i]), Float.floatToIntBits(inSecondCall[i]), "call, " + i);
            }
        }
    }

    /** Slot 0 of {@code from} alone among padding in {@code slot}, after an all-padding call if asked; drained. */
    private static float[] alone(
            TrainableModel m, Network net, DeviceBatch from, int slot, double clip, boolean afterPadding) {
        DeviceBatch b = new DeviceBatch(from.shape(), from.slots(), 1);
        if (afterPadding) m.accumulateClipped(b, clip); // adds exact zeros
        copySlot(from, 0, b, slot);
        m.accumulateClipped(b, clip);
        float[] sum = new float[Math.toIntExact(net.parameterCount())];
        m.drainGradientSum(sum);
        return sum;
    }

    private static DeviceBatch randomBatch(Shape shape, int slots, long seed) {
        DeviceBatch b = new DeviceBatch(shape, slots, 1);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < b.inputs().length; i++) b.inputs()[i] = (float) (2 * rng.nextDouble() - 1);
        for (int s = 0; s < slots; s++) {
            b.labels()[s] = rng.nextInt(10);
            b.mask()[s] = 1f;
        }
        return b;
    }

    private static void copySlot(DeviceBatch from, int fromSlot, DeviceBatch to, int toSlot) {
        int perSlot = from.inputs().length / from.slots();
        System.arraycopy(from.inputs(), fromSlot * perSlot, to.inputs(), toSlot * perSlot, perSlot);
        to.labels()[toSlot] = from.labels()[fromSlot];
        to.mask()[toSlot] = 1f;
        to.exampleIds()[toSlot] = from.exampleIds()[fromSlot];
    }

    /** The policy with every bound times (1 - μ)(1 - 2^-10): what the IPU effectively clips at (μ: AccumulatorMargin). */
    private static org.dpsgd.backend.ClipPolicy lowered(org.dpsgd.backend.ClipPolicy p, double mu) {
        double[] t = p.thresholds();
        for (int i = 0; i < t.length; i++) t[i] *= (1 - mu) * (1 - CLIP_MARGIN);
        return p.isFlat()
                ? org.dpsgd.backend.ClipPolicy.flat(t[0])
                : new org.dpsgd.backend.ClipPolicy(t, p.groupOfParameter());
    }

    private static int[] poissonSample(long seed, int n, double q) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) if (rng.nextDouble() < q) ids.add(i);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
