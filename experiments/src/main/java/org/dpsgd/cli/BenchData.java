package org.dpsgd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.data.BatchAssembler;
import org.dpsgd.data.Normalization;
import org.dpsgd.data.ShardWriter;
import org.dpsgd.data.ShardedDataset;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.plan.DeviceCall;
import org.dpsgd.train.CallFeeder;

/**
 * {@code dpsgd bench --data-only}: the host's data path alone and beside the backend. A synthetic
 * uint8 shard of the model's input shape is written to a temporary folder and read the way training
 * reads shards (memory-mapped, normalised by table); batches are assembled by {@link BatchAssembler}
 * on one loader thread, plain and with random crop (H/8) + flip, giving images/s per core (from
 * the loader thread's CPU time, steadier than wall time on a shared machine). Then the
 * backend's {@code auto} clipped step runs on those batches through the trainer's {@link CallFeeder},
 * without and with prefetch, and the time the backend waited for data per step is reported.
 */
final class BenchData {
    private BenchData() {}

    /** Wall and CPU medians of one assembly; images/s per core from the loader thread's CPU time. */
    record Throughput(String what, double medianMs, double cpuMedianMs, double imagesPerSecond) {}

    record Wait(boolean prefetch, int calls, double waitMs, double stepMs) {}

    static void run(
            PrintWriter stdout,
            Network net,
            String model,
            int batch,
            int micro,
            int warmup,
            int reps,
            Backend backend,
            boolean json)
            throws IOException {
        Shape shape = net.input();
        int crop = Math.max(1, Math.min(shape.height(), shape.width()) / 8);
        AugmentationConfig aug = new AugmentationConfig(crop, true, 1);
        Path dir = Files.createTempDirectory("dpsgd-bench-data");
        Path file = dir.resolve("train.shard");
        try {
            int count = Math.max(4 * batch, 256);
            writeShard(file, shape, net.numClasses(), count);
            try (ShardedDataset data = ShardedDataset.open(file)) {
                List<Throughput> rates = List.of(
                        throughput("plain", data, AugmentationConfig.NONE, batch, warmup, reps),
                        throughput("crop " + crop + " + flip", data, aug, batch, warmup, reps));
                List<Wait> waits = new ArrayList<>();
                try (TrainableModel m = backend.createModel(
                        net, new ModelOptions("auto", BatchLayout.of(micro), List.of(), Map.of()))) {
                    for (boolean prefetch : new boolean[] {false, true})
                        waits.add(wait(data, aug, m, batch, micro, prefetch, warmup, reps));
                }
                print(stdout, model, shape, batch, micro, backend, rates, waits, json);
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static void writeShard(Path file, Shape shape, int classes, int count) {
        SplittableRandom r = new SplittableRandom(42);
        byte[] px = new byte[shape.size()];
        ShardedDataset.Header h = new ShardedDataset.Header(
                count,
                shape,
                classes,
                42L,
                shape.channels() == 3 ? Normalization.IMAGENET : Normalization.UNIT,
                List.of());
        try (ShardWriter w = new ShardWriter(file, h)) {
            for (int i = 0; i < count; i++) {
                r.nextBytes(px);
                w.add(r.nextInt(classes), px);
            }
            w.finish();
        }
    }

    /** Calls of {@code micro} slots covering {@code batch} examples drawn for step {@code step}. */
    private static List<DeviceCall> calls(int size, int batch, int micro, long step) {
        SplittableRandom r = new SplittableRandom(step);
        List<DeviceCall> out = new ArrayList<>();
        for (int from = 0; from < batch; from += micro) {
            int[] ids = new int[micro];
            int[] pos = new int[micro];
            for (int s = 0; s < micro; s++) {
                boolean real = from + s < batch;
                ids[s] = real ? r.nextInt(size) : -1;
                pos[s] = real ? from + s : -1;
            }
            out.add(new DeviceCall(ids, pos));
        }
        return out;
    }

    private static Throughput throughput(
            String what, ShardedDataset data, AugmentationConfig aug, int batch, int warmup, int reps) {
        double[] ms = new double[reps];
        double[] cpu = new double[reps];
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        // One loader thread: the assembler runs on this thread, so its CPU time is the assembly's.
        try (BatchAssembler a = new BatchAssembler(data, aug, 7, 1)) {
            DeviceBatch b = new DeviceBatch(data.shape(), batch, 1);
            // The row loops are compiled only after a few thousand images: warm up on about 5e7 pixels.
            long warm = Math.max(
                    warmup,
                    Math.min(1000, 50_000_000L / ((long) batch * data.shape().size())));
            for (int i = (int) -Math.max(1, warm); i < reps; i++) {
                DeviceCall call = calls(data.size(), batch, batch, i + 100).get(0);
                long c0 = bean.getCurrentThreadCpuTime(), t0 = System.nanoTime();
                a.assemble(call, b, i + 100);
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                    cpu[i] = (bean.getCurrentThreadCpuTime() - c0) / 1e6;
                }
            }
        }
        double cpuMedian = median(cpu);
        return new Throughput(what, median(ms), cpuMedian, batch / (cpuMedian / 1e3));
    }

    private static Wait wait(
            ShardedDataset data,
            AugmentationConfig aug,
            TrainableModel m,
            int batch,
            int micro,
            boolean prefetch,
            int warmup,
            int reps) {
        double[] waitMs = new double[reps];
        double[] stepMs = new double[reps];
        double[] grad = new double[Math.toIntExact(m.network().parameterCount())]; // the trainer drains in float64
        int nCalls = 0;
        // As the trainer: the model is told the step's example bound before several clipped calls share a
        // drain (the IPU's coupling margin counts them and refuses calls beyond it).
        m.boundStepExamples(batch);
        try (BatchAssembler a = new BatchAssembler(data, aug, 7, 1);
                CallFeeder f = new CallFeeder(a, data.shape(), micro, 1, prefetch)) {
            for (int i = -Math.max(1, warmup); i < reps; i++) {
                List<DeviceCall> calls = calls(data.size(), batch, micro, i + 1000);
                nCalls = calls.size();
                long w0 = f.waitNanos(), t0 = System.nanoTime();
                f.feed(calls, i + 1000, b -> m.accumulateClipped(b, 1.0));
                m.drainGradientSum(grad);
                if (i >= 0) {
                    stepMs[i] = (System.nanoTime() - t0) / 1e6;
                    waitMs[i] = (f.waitNanos() - w0) / 1e6;
                }
            }
        }
        return new Wait(prefetch, nCalls, median(waitMs), median(stepMs));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static void print(
            PrintWriter stdout,
            String model,
            Shape shape,
            int batch,
            int micro,
            Backend backend,
            List<Throughput> rates,
            List<Wait> waits,
            boolean json)
            throws IOException {
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model);
            out.put("input", shape.toString());
            out.put("batch", batch);
            out.put("micro_batch", micro);
            out.put(
                    "load_average",
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                            .getSystemLoadAverage());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Throughput t : rates) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("assembly", t.what());
                row.put("median_ms", t.medianMs());
                row.put("cpu_median_ms", t.cpuMedianMs());
                row.put("images_per_s_per_core", t.imagesPerSecond());
                rows.add(row);
            }
            out.put("data", rows);
            List<Map<String, Object>> w = new ArrayList<>();
            for (Wait x : waits) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("prefetch", x.prefetch());
                row.put("calls_per_step", x.calls());
                row.put("wait_ms_per_step", x.waitMs());
                row.put("step_ms", x.stepMs());
                w.add(row);
            }
            out.put("backend_wait", w);
            stdout.println(new ObjectMapper().writeValueAsString(out));
            return;
        }
        stdout.printf(
                "data path alone: synthetic uint8 shard %s, batch %d, 1 loader thread, memory-mapped + table normalisation%n",
                shape, batch);
        for (Throughput t : rates)
            stdout.printf(
                    "data %-16s CPU median %8.2f ms per batch = %,10.0f images/s per core  (wall median %.2f ms)%n",
                    t.what(), t.cpuMedianMs(), t.imagesPerSecond(), t.medianMs());
        stdout.printf(
                "backend waits for data (auto step of %s on %s, crop + flip, calls of %d slots):%n",
                model, backend.device(), micro);
        for (Wait x : waits)
            stdout.printf(
                    "data wait %-12s %d call%s per step  median %8.2f ms waiting per step of %8.1f ms%n",
                    x.prefetch() ? "prefetch" : "in line",
                    x.calls(),
                    x.calls() == 1 ? " " : "s",
                    x.waitMs(),
                    x.stepMs());
        stdout.printf(
                "medians of the timed steps; load average %.1f (other load on the machine counts)%n",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage());
    }
}
