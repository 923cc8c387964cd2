package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.ipu.IpuMemoryPlanner.Estimate;
import org.dpsgd.ipu.IpuMemoryPlanner.Precision;
import org.dpsgd.ipu.IpuMemoryPlanner.Request;
import org.dpsgd.ipu.IpuMemoryPlanner.Verdict;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/**
 * Checks the estimator against published facts and hand-computed numbers:
 * ResNet-50 at 224x224 trains on one IPU Mk2 per replica in fp16 (Graphcore's IPU-POD16 ResNet-50
 * runs, 16 replicas of one IPU each, used recomputation, not pipelining; NanoBatch DP-SGD ran
 * GN-ResNet-50 at batch size 1 per replica), and an absurd micro-batch of 256 at 224x224 cannot fit.
 */
class IpuMemoryPlannerTest {
    private static final Network RESNET50 = ModelZoo.build(ModelSpec.of("resnet50-gn"), new Shape(3, 224, 224), 1000);

    @Test
    void mk2CapacityIsTheDocumented900MB() {
        assertEquals(1472L * 624 * 1024, IpuMemoryPlanner.MK2_BYTES);
        assertTrue(IpuMemoryPlanner.MK2_BYTES > 900e6 && IpuMemoryPlanner.MK2_BYTES < 960e6);
    }

    @Test
    void resnet50GnNanoBatchFp16FitsOnOneIpu() {
        Estimate e = IpuMemoryPlanner.estimate(new Request(RESNET50, 1, 1, Precision.FP16, true, false));
        assertEquals(Verdict.FITS, e.verdict(), e.render());
        // Weights by hand: P fp32 master + P fp16 compute + P fp16 gradient + P fp32 accumulator = 12 bytes/param.
        assertEquals(12 * RESNET50.parameterCount(), e.weightBytes());
        assertTrue(RESNET50.parameterCount() > 25_000_000 && RESNET50.parameterCount() < 26_000_000);
        // 25.6 M fp32 parameters are 102 MB: one stream each for parameters, gradients and noise.
        assertTrue(e.render().contains("in 1 chunk(s) of at most 128 MB"), e.render());
    }

    @Test
    void streamsAreChunkedBelowPoplarsLimit() {
        assertEquals(1, IpuMemoryPlanner.streamChunks(32_000_000));
        assertEquals(2, IpuMemoryPlanner.streamChunks(32_000_001));
        assertEquals(2, IpuMemoryPlanner.streamChunks(33_554_433)); // "above ~33.5 M float parameters" (issue 14)
        assertEquals(4, IpuMemoryPlanner.streamChunks(100_000_000));
    }

    @Test
    void aLayoutThatWouldFitOnlyWithRecomputationIsRefusedWithTheLargestThatFits() {
        // The graph keeps every activation (no recomputation): the verdict must say so, never "fits with
        // recomputation".
        for (int m = 2; m <= 64; m *= 2) {
            Estimate e = IpuMemoryPlanner.estimate(new Request(RESNET50, m, 1, Precision.FP16, true, false));
            if (e.verdict() == Verdict.FITS) {
                assertTrue(e.totalBytes() <= e.capacityBytes(), e.render());
                continue;
            }
            assertEquals(Verdict.NEEDS_SMALLER_MICRO_BATCH, e.verdict(), e.render());
            int largest = e.largestFittingMicroBatch();
            assertTrue(IpuMemoryPlanner.estimate(new Request(RESNET50, largest, 1, Precision.FP16, true, false))
                            .totalBytes()
                    <= e.capacityBytes());
            if (largest + 1 < m) {
                assertTrue(IpuMemoryPlanner.estimate(new Request(RESNET50, largest + 1, 1, Precision.FP16, true, false))
                                .totalBytes()
                        > e.capacityBytes());
            }
        }
    }

    @Test
    void theBackendRefusesAtStartUpWhatThePlannerSaysDoesNotFit() {
        IpuBackend strict = new IpuBackend(IpuSettings.parse(java.util.Map.of("precision", "fp16")), "test");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> strict.checkMemory(RESNET50, new org.dpsgd.backend.BatchLayout(8, 1, 1), 1));
        assertTrue(
                e.getMessage().contains("micro_batch_size <= ")
                        && e.getMessage().contains("memory_check: false"),
                e.getMessage());
        strict.checkMemory(RESNET50, new org.dpsgd.backend.BatchLayout(1, 1, 1), 1); // fits: no refusal
        new IpuBackend(IpuSettings.parse(java.util.Map.of("precision", "fp16", "memory_check", "false")), "test")
                .checkMemory(RESNET50, new org.dpsgd.backend.BatchLayout(8, 1, 1), 1); // opted out
    }

    @Test
    void resnet50GnNonPrivateNeedsNoPipelining() {
        // Graphcore's published ResNet-50 training ran one IPU per replica (data parallel, recomputation).
        Estimate e = IpuMemoryPlanner.estimate(new Request(RESNET50, 8, 1, Precision.FP16, false, true));
        assertNotEquals(Verdict.NEEDS_PIPELINING, e.verdict(), e.render());
    }

    @Test
    void absurdMicroBatchDoesNotFit() {
        Estimate e = IpuMemoryPlanner.estimate(new Request(RESNET50, 256, 1, Precision.FP16, true, false));
        assertEquals(Verdict.NEEDS_SMALLER_MICRO_BATCH, e.verdict(), e.render());
        assertTrue(e.largestFittingMicroBatch() >= 1 && e.largestFittingMicroBatch() < 256);
        // The suggested micro-batch really fits, without recomputation (the graph has none).
        Estimate smaller = IpuMemoryPlanner.estimate(
                new Request(RESNET50, e.largestFittingMicroBatch(), 1, Precision.FP16, true, false));
        assertEquals(Verdict.FITS, smaller.verdict(), smaller.render());
        assertTrue(e.render().contains("micro_batch_size <= " + e.largestFittingMicroBatch()), e.render());
    }

    @Test
    void perSampleGradientsCostMCopiesOfTheParameters() {
        Network net = ModelZoo.build(ModelSpec.of("resnet18-gn").withStem("cifar"), new Shape(3, 32, 32), 10);
        long p = net.parameterCount();
        Estimate m1 = IpuMemoryPlanner.estimate(new Request(net, 1, 1, Precision.FP32, true, false));
        Estimate m4 = IpuMemoryPlanner.estimate(new Request(net, 4, 1, Precision.FP32, true, false));
        assertEquals(3 * 4 * p, m4.weightBytes() - m1.weightBytes());
        // Activations scale linearly with the samples per micro-batch (m x multiplicity).
        Estimate k2 = IpuMemoryPlanner.estimate(new Request(net, 1, 2, Precision.FP32, true, false));
        assertEquals(4 * m1.activationBytes(), m4.activationBytes());
        assertEquals(2 * m1.activationBytes(), k2.activationBytes());
    }

    @Test
    void activationsOfATinyNetworkMatchAHandCount() {
        // small-cnn on 1x8x8, what backward refers to: conv1's input (64), gn1's whitened 16x8x8 (1024),
        // relu1's output (1024, also pool1's and conv2's input), pool1's output (256), gn2's whitened 32x4x4 (512),
        // relu2's output (512), pool2's output 32x2x2 (128, flattened: fc's input).
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), new Shape(1, 8, 8), 10);
        Estimate e = IpuMemoryPlanner.estimate(new Request(net, 1, 1, Precision.FP32, true, false));
        long elements = 64 + 1024 + 1024 + 256 + 512 + 512 + 128;
        assertEquals(4 * elements, e.activationBytes());
    }
}
