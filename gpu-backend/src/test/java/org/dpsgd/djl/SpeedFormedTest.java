package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.junit.jupiter.api.Test;

/**
 * A layer {@code MIXED} forms for speed in a float32 model at its real size (resnet18-gn's layer1 at 3x32x32, batch
 * 64: 64 -&gt; 64 channels, 3x3 on 8x8, T' = 64, the formed gradient 18.9 MB in float64, above {@link
 * Conv2dRule#KEEP_WIDE_BYTES} and within {@link Conv2dRule#FORMED_FOR_SPEED_BYTES}, so its float64 copy made for the
 * norm is the one the clipped sum reads): its per-slot norms and clipped sum (C at the median norm) agree with the
 * float64 model's, which takes the ghost norm there and equals the batch-size-1 loop (Conv2dRuleTest, LiveTapsTest),
 * to 1e-4, with one slot padding; and with the session-7 threshold (the float32 gradient kept, cast again for the
 * sum) the float32 values are the same to the last bit.
 */
class SpeedFormedTest {
    @Test
    void layer1SizedSpeedFormedLayerAgreesWithFloat64() {
        int slots = 64;
        Network net = layer1Net();
        long t = 64;
        long p = 64;
        long d = 576;
        assertTrue(Conv2dRule.useGhost(RuleOptions.Norm.MIXED, t, p, d, false, 4), "the memory rule says ghost");
        assertFalse(Conv2dRule.ghostNorm(RuleOptions.Norm.MIXED, slots, t, p, d, false, 4), "formed for speed");
        long bytes = slots * p * d * 8;
        assertTrue(bytes > Conv2dRule.KEEP_WIDE_BYTES && bytes <= Conv2dRule.FORMED_FOR_SPEED_BYTES, "kept wide");
        DeviceBatch b = TestSupport.batch(net, slots, 1, 77, 1.0, 5);
        double[] n64;
        float[] s64 = new float[(int) net.parameterCount()];
        try (DjlTrainableModel f64 = TestSupport.model(net, "bookkeeping", "float64", List.of(), RuleOptions.DEFAULT)) {
            n64 = f64.perSampleGradientNorms(b);
            double[] real = new double[slots - 1];
            for (int i = 0, k = 0; i < slots; i++) if (i != 5) real[k++] = n64[i];
            double clip = TestSupport.median(real);
            f64.accumulateClipped(b, clip);
            f64.drainGradientSum(s64);
            float[][] s32 = new float[2][s64.length];
            for (int keep = 0; keep < 2; keep++) {
                Conv2dRule.keepSpeedFormedWide = keep == 0;
                try (DjlTrainableModel f32 =
                        TestSupport.model(net, "bookkeeping", "float32", List.of(), RuleOptions.DEFAULT)) {
                    double[] n32 = f32.perSampleGradientNorms(b);
                    assertEquals(0.0, n32[5], "padding slot");
                    for (int i = 0; i < slots; i++)
                        assertEquals(n64[i], n32[i], 1e-4 * n64[i] + 1e-30, "slot " + i + " norm");
                    f32.accumulateClipped(b, clip);
                    f32.drainGradientSum(s32[keep]);
                } finally {
                    Conv2dRule.keepSpeedFormedWide = true;
                }
                double err = TestSupport.relativeError(s32[keep], s64);
                assertTrue(err < 1e-4, "clipped sum differs from float64's by " + err + " (relative)");
            }
            for (int i = 0; i < s64.length; i++)
                assertEquals(s32[1][i], s32[0][i], 0f, "coordinate " + i + ": kept float64 vs cast again");
        }
    }

    /**
     * The kept float64 copy is the unscaled one (review of r18x8, S2): with a power-of-two loss scale the same
     * layer's norms and clipped sum are the unscaled run's bit for bit (exact in float32, LossScaleTest); a copy
     * of the scaled gradient kept for the sum would make it 1024 times the bounded value.
     */
    @Test
    void aPowerOfTwoLossScaleChangesNothingOnASpeedFormedLayer() {
        Network net = layer1Net();
        DeviceBatch b = TestSupport.batch(net, 64, 1, 77, 1.0, 5);
        float[][] s = new float[2][(int) net.parameterCount()];
        double[][] n = new double[2][];
        for (int k = 0; k < 2; k++) {
            try (DjlTrainableModel m = TestSupport.model(
                    net,
                    "bookkeeping",
                    java.util.Map.of("precision", "fp32", "loss_scale", k == 0 ? "1" : "1024", "seed", "7"),
                    List.of())) {
                n[k] = m.perSampleGradientNorms(b);
                m.accumulateClipped(b, 0.5 * n[0][0] + 1e-6);
                m.drainGradientSum(s[k]);
            }
        }
        for (int i = 0; i < n[0].length; i++) assertEquals(n[0][i], n[1][i], 0.0, "norm " + i);
        for (int i = 0; i < s[0].length; i++) assertEquals(s[0][i], s[1][i], 0f, "coordinate " + i);
    }

    /** resnet18-gn's layer1 conv at 3x32x32 (64 -&gt; 64 channels, 3x3 on 8x8), then tanh and a linear head. */
    private static Network layer1Net() {
        return OneConvTap.withHead("layer1-conv", new Layer.Conv2d("conv", 64, 64, 3, 1, 1, true, false), 8);
    }
}
