package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

class IpuPlanReportTest {
    private static ExperimentConfig config(String model, String data, int micro, int accumulation, String settings) {
        return ConfigLoader.parse("""
                name: plan-test
                model: {name: %s}
                data: %s
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1.0e-6}
                training: {batch_size: 1024, steps: 10, micro_batch_size: %d, accumulation: %d}
                backend: {name: ipu, settings: {%s}}
                """.formatted(model, data, micro, accumulation, settings), "test");
    }

    @Test
    void resnet50OnImageNetSizedInputsWithSixteenReplicas() {
        ExperimentConfig cfg = config(
                "resnet50-gn",
                "{format: imagefolder, path: /nonexistent, image_size: 224}",
                1,
                16,
                "replicas: '16', precision: fp16");
        String report = IpuPlanReport.render(cfg, null, 1000);
        assertTrue(
                report.contains("16 replica(s) x 16 micro-batch(es) x 1 slot(s) = 256 slots per device call"), report);
        assertTrue(report.contains("expected batch       1024 -> about 4 device call(s) per step"), report);
        assertTrue(report.contains("verdict              FITS"), report);
        assertTrue(report.contains("input 3x224x224"), report);
    }

    @Test
    void aModelThatNeedsSeveralIpusGetsAPipelineSplit() {
        ExperimentConfig cfg = config(
                "resnet50-gn", "{format: imagefolder, path: /nonexistent, image_size: 448}", 1, 16, "replicas: '4'");
        String report = IpuPlanReport.render(cfg, null, 1000);
        assertTrue(report.contains("verdict              NEEDS_PIPELINING"), report);
        assertTrue(report.contains("stage(s) on 2 IPU(s) per replica"), report);
        assertTrue(report.contains("  stage 0            conv1 .. "), report);
        assertTrue(report.contains("the ipu backend refuses this layout"), report);
        // ResNet-50-GN at 224: asked for four stages.
        ExperimentConfig r224 = config(
                "resnet50-gn", "{format: imagefolder, path: /nonexistent, image_size: 224}", 4, 4, "precision: fp16");
        String staged = IpuPlanReport.render(r224, null, 1000, 4);
        assertTrue(staged.contains("4 stage(s) on 4 IPU(s) per replica (micro-batch 4"), staged);
        assertTrue(staged.contains("  stage 3 "), staged);
    }

    @Test
    void replicasThatPoplarCannotAllocateAreRefusedByThePlan() {
        ExperimentConfig cfg = config("small-cnn", "{format: idx}", 1, 1, "replicas: '6'");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> IpuPlanReport.render(cfg, null, null));
        assertTrue(e.getMessage().contains("power of two") && e.getMessage().contains("use 4 or 8"), e.getMessage());
    }

    @Test
    void shapesAndClassesComeFromTheDataFormat() {
        assertEquals(
                new Shape(1, 28, 28),
                IpuPlanReport.inputShape(
                        config("small-cnn", "{format: idx}", 1, 1, "").data()));
        assertEquals(
                100,
                IpuPlanReport.classes(config("small-cnn", "{format: cifar100, path: /x}", 1, 1, "")
                        .data()));
        ExperimentConfig synthetic = config("small-cnn", "{format: synthetic, path: 3x16x16/7}", 4, 2, "");
        assertEquals(new Shape(3, 16, 16), IpuPlanReport.inputShape(synthetic.data()));
        assertEquals(7, IpuPlanReport.classes(synthetic.data()));
        String report = IpuPlanReport.render(synthetic, null, null);
        assertTrue(report.contains("1 replica(s) x 2 micro-batch(es) x 4 slot(s) = 8 slots per device call"), report);
    }
}
