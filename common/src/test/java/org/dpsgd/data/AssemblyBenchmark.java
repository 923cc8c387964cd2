package org.dpsgd.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.model.Shape;
import org.dpsgd.plan.DeviceCall;

/**
 * Measures batch assembly (not a test): java -cp ... org.dpsgd.data.AssemblyBenchmark C H W batch crop reps.
 * Uses only public API (shard writer and reader, BatchAssembler), so the same file compiles against
 * older versions of common, which is how docs/benchmarks.md measured "before"; one loader thread
 * (the calling one), so images/s is per core; the thread's CPU time is the steadier figure on a
 * shared machine. {@code dpsgd bench --data-only} is the user-facing measurement.
 */
public final class AssemblyBenchmark {
    public static void main(String[] a) throws Exception {
        Shape shape = new Shape(Integer.parseInt(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]));
        int batch = Integer.parseInt(a[3]), crop = Integer.parseInt(a[4]), reps = Integer.parseInt(a[5]);
        Path dir = Files.createTempDirectory("assembly-bench");
        Path file = dir.resolve("train.shard");
        int count = 4 * batch;
        SplittableRandom r = new SplittableRandom(42);
        byte[] px = new byte[shape.size()];
        try (ShardWriter w = new ShardWriter(
                file, new ShardedDataset.Header(count, shape, 10, 42L, Normalization.IMAGENET, List.of()))) {
            for (int i = 0; i < count; i++) {
                r.nextBytes(px);
                w.add(r.nextInt(10), px);
            }
            w.finish();
        }
        try (ShardedDataset data = ShardedDataset.open(file)) {
            for (AugmentationConfig aug : List.of(AugmentationConfig.NONE, new AugmentationConfig(crop, true, 1))) {
                double[] ms = new double[reps];
                double[] cpu = new double[reps];
                var threadsBean = java.lang.management.ManagementFactory.getThreadMXBean();
                try (BatchAssembler asm = new BatchAssembler(data, aug, 7, 1)) {
                    DeviceBatch b = new DeviceBatch(shape, batch, 1);
                    for (int i = -10; i < reps; i++) {
                        int[] ids = new int[batch], pos = new int[batch];
                        for (int s = 0; s < batch; s++) {
                            ids[s] = r.nextInt(count);
                            pos[s] = s;
                        }
                        long c0 = threadsBean.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                        asm.assemble(new DeviceCall(ids, pos), b, i + 10);
                        if (i >= 0) {
                            ms[i] = (System.nanoTime() - t0) / 1e6;
                            cpu[i] = (threadsBean.getCurrentThreadCpuTime() - c0) / 1e6;
                        }
                    }
                }
                Arrays.sort(ms);
                Arrays.sort(cpu);
                System.out.printf(
                        "assembly %s batch %d %-9s CPU median %.2f ms = %,.0f images/s per core; wall median %.2f ms [%.2f, %.2f]"
                                + " = %,.0f images/s (load %.1f)%n",
                        shape,
                        batch,
                        aug.enabled() ? "crop+flip" : "plain",
                        cpu[reps / 2],
                        batch / (cpu[reps / 2] / 1e3),
                        ms[reps / 2],
                        ms[0],
                        ms[reps - 1],
                        batch / (ms[reps / 2] / 1e3),
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                                .getSystemLoadAverage());
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }
}
