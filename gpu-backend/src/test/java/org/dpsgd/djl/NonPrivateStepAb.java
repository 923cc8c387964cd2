package org.dpsgd.djl;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.DeviceSgd;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Not a test: the bench's non-private step (gradient sum, then the in-place SGD update) at batch 64,
 * float32, with {@link WindowConv} switched off (0) and on (1) in one process, so both see the same
 * load (with {@code -Dab=gn}: {@link NativeGroupNorm}'s small-map form off and on instead; with {@code -Dab=pool}:
 * {@link ChannelsLastMaxPool} off and on); each round runs both for {@code steps} steps, 0 1 in even rounds and 1 0 in odd ones.
 * java -cp ... org.dpsgd.djl.NonPrivateStepAb model CxHxW rounds steps [trace prefix]. Prints median
 * wall and process-CPU ms per step and the per-round wall ratio; with a prefix, also writes DJL
 * profiler traces of 3 steps of each (prefix-0.json, prefix-1.json).
 */
public final class NonPrivateStepAb {
    public static void main(String[] a) {
        Network net = ModelZoo.build(ModelSpec.of(a[0]), Shape.parse(a[1]), 10);
        int rounds = Integer.parseInt(a[2]);
        int steps = Integer.parseInt(a[3]);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        DeviceBatch b = TestSupport.batch(net, 64, 1, 1, 1.0);
        double[][] wall = new double[2][rounds];
        double[][] cpu = new double[2][rounds];
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", "float32", List.of())) {
            DeviceSgd sgd = m.deviceSgd().orElseThrow();
            for (int r = -1; r < rounds; r++) {
                for (int j = 0; j < 2; j++) {
                    int v = (r & 1) == 0 ? j : 1 - j;
                    toggle(v == 1);
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    for (int s = 0; s < steps; s++) {
                        m.accumulateUnclipped(b);
                        sgd.step(64, 0.001);
                    }
                    if (r >= 0) {
                        wall[v][r] = (System.nanoTime() - t0) / 1e6 / steps;
                        cpu[v][r] = (os.getProcessCpuTime() - c0) / 1e6 / steps;
                    }
                }
            }
            if (a.length > 4) {
                for (int v = 0; v < 2; v++) {
                    toggle(v == 1);
                    ai.djl.pytorch.jni.JniUtils.startProfile(false, true, false);
                    for (int s = 0; s < 3; s++) {
                        m.accumulateUnclipped(b);
                        sgd.step(64, 0.001);
                    }
                    ai.djl.pytorch.jni.JniUtils.stopProfile(a[4] + "-" + v + ".json");
                }
            }
        } finally {
            WindowConv.enabled = true;
            NativeGroupNorm.smallMap = 4;
            ChannelsLastMaxPool.enabled = true;
        }
        String[] names = GN
                ? new String[] {"fused GN", "small-map GN"}
                : POOL ? new String[] {"NCHW pool", "CL-index pool"} : new String[] {"convolution", "WindowConv"};
        for (int v = 0; v < 2; v++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = wall[v][r] / wall[0][r];
            System.out.printf(
                    "%-12s wall %7.1f ms [%7.1f, %7.1f]  cpu %7.1f ms  wall ratio to 0 per round %.3f [%.3f, %.3f]%n",
                    names[v],
                    median(wall[v]),
                    min(wall[v]),
                    max(wall[v]),
                    median(cpu[v]),
                    median(ratio),
                    min(ratio),
                    max(ratio));
        }
        System.out.printf("load %.1f%n", os.getSystemLoadAverage());
    }

    private static final boolean GN = "gn".equals(System.getProperty("ab"));
    private static final boolean POOL = "pool".equals(System.getProperty("ab"));

    private static void toggle(boolean on) {
        if (GN) NativeGroupNorm.smallMap = on ? 4 : 0;
        else if (POOL) ChannelsLastMaxPool.enabled = on;
        else WindowConv.enabled = on;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }
}
