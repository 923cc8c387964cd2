package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The loss scale is divided out before clipping (C in true units), exactly, and an example whose
 * scaled gradient overflows contributes exactly 0 and is counted, never a NaN in the sum.
 */
class LossScaleTest {
    private static Network net() {
        return ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x16x16"), 10);
    }

    private static DjlTrainableModel model(Network net, String strategy, String precision, long scale) {
        return TestSupport.model(
                net,
                strategy,
                Map.of("precision", precision, "loss_scale", Long.toString(scale), "seed", "7"),
                List.of());
    }

    /**
     * Scaling by a power of two commutes with every rounding of the backward pass (all of it is linear
     * in the seed) as long as nothing over- or underflows, so in fp32 (and bf16, whose range is fp32's)
     * S = 2^10 must give the very same norms and clipped sum as S = 1, bit for bit: the division is
     * really there, really exact, and before the norm.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"bookkeeping,fp32", "microbatch,fp32", "bookkeeping,bf16", "microbatch,bf16"})
    void aPowerOfTwoScaleChangesNothing(String strategy, String precision) {
        assumeTrue(TestSupport.supports(precision), precision + " is not available on this engine");
        Network net = net();
        try (DjlTrainableModel plain = model(net, strategy, precision, 1);
                DjlTrainableModel scaled = model(net, strategy, precision, 1024)) {
            DeviceBatch b = TestSupport.batch(net, 5, 1, 41, 1.0, 3);
            double[] want = plain.perSampleGradientNorms(b);
            double[] got = scaled.perSampleGradientNorms(b);
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 0.0, "norm of slot " + i);
            double clip = TestSupport.midpointBelowMedian(StrategyExactnessTest.realOnly(want, b));
            BatchStats ps = plain.accumulateClipped(b, clip);
            BatchStats ss = scaled.accumulateClipped(b, clip);
            assertTrue(ps.clipped() > 0, ps.toString());
            assertEquals(ps.clipped(), ss.clipped());
            float[] sumWant = ClipBoundTest.drain(plain, net);
            float[] sumGot = ClipBoundTest.drain(scaled, net);
            for (int i = 0; i < sumWant.length; i++) assertEquals(sumWant[i], sumGot[i], 0f, "coordinate " + i);
            plain.accumulateUnclipped(b);
            scaled.accumulateUnclipped(b);
            float[] uWant = ClipBoundTest.drain(plain, net);
            float[] uGot = ClipBoundTest.drain(scaled, net);
            for (int i = 0; i < uWant.length; i++) assertEquals(uWant[i], uGot[i], 0f, "unclipped coordinate " + i);
        }
    }

    /**
     * fp16 with the largest scale (2^24) overflows every example's gradient (fp16 ends at 65504):
     * each is dropped and counted as non-finite, and the drained sum is exactly 0. The same batch with
     * the default scale has no overflow, so the drop is the scale's doing.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"bookkeeping", "microbatch"})
    void anOverflowingExampleContributesExactlyZero(String strategy) {
        assumeTrue(TestSupport.supports("fp16"), "fp16 is not available on this engine");
        Network net = net();
        DeviceBatch b = TestSupport.batch(net, 4, 1, 43, 1.0, 1);
        try (DjlTrainableModel overflowing = model(net, strategy, "fp16", LossScale.MAX);
                DjlTrainableModel fine = TestSupport.model(net, strategy, "fp16", List.of())) {
            BatchStats s = overflowing.accumulateClipped(b, 1.0);
            assertEquals(3, s.samples());
            assertEquals(3, s.nonFinite());
            for (float v : ClipBoundTest.drain(overflowing, net)) assertEquals(0f, v, 0f);
            BatchStats f = fine.accumulateClipped(b, 1.0);
            assertEquals(0, f.nonFinite());
            double norm = ClipBoundTest.drainedNorm(fine, net);
            assertTrue(norm > 0 && norm <= 3.0, "three examples clipped to 1 sum to " + norm);
        }
    }

    @Test
    void settingsAreParsedAndRefusedClearly() {
        assertEquals(128, LossScale.from(Map.of(), Map.of(), Precision.FLOAT16).value);
        assertEquals(1, LossScale.from(Map.of(), Map.of(), Precision.BFLOAT16).value);
        assertEquals(1, LossScale.from(Map.of(), Map.of(), Precision.FLOAT32).value);
        assertEquals(
                1024, LossScale.from(Map.of("loss_scale", "1024"), Map.of("loss_scale", "8"), Precision.FLOAT16).value);
        assertEquals(8, LossScale.from(Map.of(), Map.of("loss_scale", "8"), Precision.FLOAT16).value);
        assertEquals(128, LossScale.from(Map.of("loss_scale", "0"), Map.of(), Precision.FLOAT16).value);
        assertEquals(1, LossScale.from(Map.of("loss_scale", "0"), Map.of(), Precision.FLOAT32).value);
        for (String bad : List.of("-4", "3", "1000", "33554432", "x", "1.5")) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> LossScale.from(Map.of("loss_scale", bad), Map.of(), Precision.FLOAT16),
                    bad);
            assertTrue(e.getMessage().contains("loss_scale must be a power of two"), e.getMessage());
        }
    }
}
