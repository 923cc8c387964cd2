package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A real slot whose gradient is NaN or infinite contributes exactly 0 (no error, no slot index
 * anywhere): the other slots' clipped sum equals, value for value, the sum of a batch in which
 * those slots are padding, and the count goes to {@link BatchStats#nonFinite()}.
 */
class NonFiniteSlotTest {
    @ParameterizedTest(name = "{0} {1} {2} K={3} {4}")
    @CsvSource({
        "bookkeeping,small-cnn,float32,1,flat",
        "bookkeeping,small-cnn,float64,2,flat",
        "microbatch,small-cnn,float32,1,flat",
        "microbatch,small-cnn,float64,1,per_layer",
        "bookkeeping,small-cnn,float32,2,per_layer",
        "bookkeeping,fmnist-cnn,float32,1,flat",
        "bookkeeping,resnet18-gn,float32,1,per_layer",
        "bookkeeping,small-cnn,fp16,2,flat",
        "microbatch,small-cnn,fp16,1,per_layer",
        "bookkeeping,small-cnn,bf16,1,per_layer",
        "microbatch,small-cnn,bf16,1,flat"
    })
    void nonFiniteSlotsAddExactlyNothing(String strategy, String model, String dtype, int copies, String clipping) {
        assumeTrue(TestSupport.supports(dtype), dtype + " is not available on this engine");
        String input = model.equals("resnet18-gn") ? "3x8x8" : model.equals("fmnist-cnn") ? "1x28x28" : "1x16x16";
        ModelSpec spec = model.equals("resnet18-gn") ? ModelSpec.of(model).withStem("cifar") : ModelSpec.of(model);
        Network net = ModelZoo.build(spec, Shape.parse(input), 10);
        int[] bad = {1, 4};
        DeviceBatch poisoned = TestSupport.batch(net, 6, copies, 21, 1.0, 5);
        poisoned.inputs()[poisoned.inputOffset(bad[0], 0) + 3] = Float.NaN;
        poisoned.inputs()[poisoned.inputOffset(bad[1], copies - 1) + 7] = Float.POSITIVE_INFINITY;
        DeviceBatch without = TestSupport.batch(net, 6, copies, 21, 1.0, 5, bad[0], bad[1]);
        try (DjlTrainableModel m = TestSupport.model(net, strategy, dtype, List.of())) {
            ClipPolicy policy = policy(clipping, net);
            double[] norms = m.perSampleGradientNorms(poisoned);
            for (int s : bad)
                assertTrue(
                        !Double.isFinite(norms[s]),
                        "slot " + s + " should have a non-finite gradient norm: " + norms[s]);
            BatchStats withBad = m.accumulateClipped(poisoned, policy);
            float[] got = ClipBoundTest.drain(m, net);
            BatchStats clean = m.accumulateClipped(without, policy);
            float[] want = ClipBoundTest.drain(m, net);
            assertEquals(2, withBad.nonFinite());
            assertEquals(0, clean.nonFinite());
            assertEquals(5, withBad.samples());
            assertEquals(clean.clipped(), withBad.clipped());
            assertTrue(Double.isFinite(withBad.lossSum()) && Double.isFinite(withBad.normSum()), withBad.toString());
            assertEquals(clean.normSum(), withBad.normSum(), 0.0);
            boolean anyNonZero = false;
            for (int i = 0; i < got.length; i++) {
                assertTrue(Float.isFinite(got[i]), "coordinate " + i + " is " + got[i]);
                // == (not bit equality): only the sign of an exact zero may differ
                assertTrue(got[i] == want[i], "coordinate " + i + ": " + got[i] + " vs " + want[i]);
                anyNonZero |= got[i] != 0f;
            }
            assertTrue(anyNonZero);
        }
    }

    static ClipPolicy policy(String clipping, Network net) {
        if (clipping.equals("flat")) return ClipPolicy.flat(0.5);
        int n = net.parameters().size();
        int[] groups = new int[n];
        double[] th = new double[n];
        for (int i = 0; i < n; i++) {
            groups[i] = i;
            th[i] = 0.5 / Math.sqrt(n);
        }
        return new ClipPolicy(th, groups);
    }
}
