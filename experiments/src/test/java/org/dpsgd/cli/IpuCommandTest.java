package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IpuCommandTest {
    @TempDir
    Path dir;

    @Test
    void planPrintsLayoutAndVerdictWithoutAnIpu() throws Exception {
        Path cfg = dir.resolve("r50.yaml");
        Files.writeString(cfg, """
                name: nanobatch-r50
                model: {name: resnet50-gn}
                data: {format: synthetic, path: 3x224x224/1000}
                privacy: {clip_norm: 1.0, noise_multiplier: 2.5, delta: 8.0e-7}
                training: {batch_size: 16384, steps: 10, micro_batch_size: 1, accumulation: 64}
                backend: {name: ipu, settings: {replicas: '16', precision: fp16}}
                """);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Main.run("ipu", "plan", "--config", cfg.toString());
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        assertTrue(out.contains("16 replica(s) x 64 micro-batch(es) x 1 slot(s) = 1024 slots per device call"), out);
        assertTrue(out.contains("about 16 device call(s) per step"), out);
        assertTrue(out.contains("verdict              FITS"), out);
    }

    @Test
    void planProposesAPipelineSplitWithStagesAndRefusesReplicasPoplarCannotAllocate() throws Exception {
        Path cfg = dir.resolve("r50-pipe.yaml");
        Files.writeString(cfg, """
                name: r50-pipe
                model: {name: resnet50-gn}
                data: {format: synthetic, path: 3x224x224/1000}
                privacy: {clip_norm: 1.0, noise_multiplier: 2.5, delta: 8.0e-7}
                training: {batch_size: 4096, steps: 10, micro_batch_size: 4, accumulation: 16}
                backend: {name: ipu, settings: {replicas: '4', precision: fp16}}
                """);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Main.run("ipu", "plan", "--config", cfg.toString(), "--stages", "4");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        assertTrue(out.contains("4 stage(s) on 4 IPU(s) per replica (micro-batch 4"), out);
        assertTrue(out.contains("the ipu backend refuses this layout"), out);

        Path bad = dir.resolve("r3.yaml");
        Files.writeString(bad, Files.readString(cfg).replace("replicas: '4'", "replicas: '3'"));
        assertEquals(2, Main.run("ipu", "plan", "--config", bad.toString()));
    }

    @Test
    void planSplitsEachStepOverPoprunInstances() throws Exception {
        Path cfg = dir.resolve("r50.yaml");
        Files.writeString(cfg, """
                name: nanobatch-r50
                model: {name: resnet50-gn}
                data: {format: synthetic, path: 3x224x224/1000}
                privacy: {clip_norm: 1.0, noise_multiplier: 2.5, delta: 8.0e-7}
                training: {batch_size: 16384, steps: 10, micro_batch_size: 1, accumulation: 64}
                backend: {name: ipu, settings: {replicas: '16', precision: fp16}}
                """);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Main.run("ipu", "plan", "--config", cfg.toString(), "--instances", "4");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        // 16384 / 4 instances = 4096 expected examples per instance per step, in calls of 16 x 64 x 1 = 1024 slots.
        assertTrue(out.contains("expected batch       4096 -> about 4 device call(s) per step"), out);
        assertTrue(out.contains("instances            4 x 16 replica(s) x 1 IPU(s) = 64 IPUs"), out);
        // The clipped sum is all-reduced on the device over the 64 replicas; the host only broadcasts rank 0's noisy
        // sum.
        assertTrue(
                out.contains("device all-reduce    ~25,557,032 floats (102.2 MB) per logical step over all 64 replicas "
                        + "of the 4 instances"),
                out);
        assertTrue(
                out.contains("host broadcast       ~25,557,032 floats (102.2 MB) per logical step from rank 0"), out);
        assertTrue(!out.contains("host allreduce"), out);
        assertTrue(out.contains("poprun --num-instances 4 --num-replicas 64 --ipus-per-replica 1"), out);
        assertTrue(out.contains("--backend ipu --set backend.settings.replicas=16"), out);
    }

    @Test
    void planTakesConfigOverridesAndPassesThemToThePoprunLine() throws Exception {
        Path cfg = dir.resolve("r50o.yaml");
        Files.writeString(cfg, """
                model: {name: resnet50-gn}
                data: {format: synthetic, path: 3x224x224/1000}
                privacy: {clip_norm: 1.0, noise_multiplier: 2.5, delta: 8.0e-7}
                training: {batch_size: 1024, steps: 10, micro_batch_size: 1, accumulation: 64}
                backend: {name: ipu, settings: {replicas: '16', precision: fp16}}
                """);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Main.run(
                    "ipu", "plan", "--config", cfg.toString(), "--instances", "4", "--set", "training.accumulation=16");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        // 1024 / 4 = 256 expected examples per instance, in calls of 16 replicas x 16 x 1 = 256 slots.
        assertTrue(out.contains("expected batch       256 -> about 1 device call(s) per step"), out);
        assertTrue(out.contains("--set backend.settings.replicas=16 --set training.accumulation=16"), out);
    }

    @Test
    void planRefusesAPipelineAcrossPoprunInstances() throws Exception {
        Path cfg = dir.resolve("r50s.yaml");
        Files.writeString(cfg, """
                model: {name: small-cnn}
                data: {format: synthetic}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1.0e-5}
                training: {batch_size: 64, steps: 1}
                backend: {name: ipu, settings: {replicas: '4'}}
                """);
        assertEquals(2, Main.run("ipu", "plan", "--config", cfg.toString(), "--instances", "2", "--stages", "2"));
    }

    @Test
    void planRefusesAnUnknownIpuSettingInOneLine() throws Exception {
        Path cfg = dir.resolve("bad.yaml");
        Files.writeString(cfg, """
                model: {name: small-cnn}
                data: {format: synthetic}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1.0e-5}
                training: {batch_size: 64, steps: 1}
                backend: {settings: {replica: '2'}}
                """);
        assertEquals(2, Main.run("ipu", "plan", "--config", cfg.toString()));
    }
}
