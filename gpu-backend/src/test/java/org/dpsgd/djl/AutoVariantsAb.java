package org.dpsgd.djl;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Not a test: the gradient part of the non-private step and of {@code auto} with and without session 9's change
 * ({@link Conv2dRule#kernelMajorRows}, {@link Conv2dRule#keepOutGrad}; GroupNorm's adopted sums and the live-tap
 * sum added into zeros instead of padded are not switched), interleaved step by step in ONE process, in wall and process CPU time: java
 * -cp ... org.dpsgd.djl.AutoVariantsAb model CxHxW batch steps (docs/benchmarks.md "Session 9: resnet18-gn auto").
 * Session 8's version (its knobs liveTaps, adoptFirstSum, keepSpeedFormedWide) is in git history.
 */
public final class AutoVariantsAb {
    public static void main(String[] a) {
        Network net = ModelZoo.build(org.dpsgd.model.ModelSpec.of(a[0]), Shape.parse(a[1]), 10);
        int slots = Integer.parseInt(a[2]);
        int steps = Integer.parseInt(a[3]);
        DeviceBatch b = TestSupport.batch(net, slots, 1, 42, 1.0);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        String[] names = {"nonprivate", "auto before (session 8)", "auto (session 9)"};
        try (DjlTrainableModel np = TestSupport.model(net, "nonprivate", Map.of("seed", "0"), List.of());
                DjlTrainableModel auto = TestSupport.model(net, "auto", Map.of("seed", "0"), List.of())) {
            float[] grad = new float[Math.toIntExact(net.parameterCount())];
            double[][] wall = new double[3][steps];
            double[] cpu = new double[3];
            for (int s = -2; s < steps; s++) {
                for (int v = 0; v < 3; v++) {
                    Conv2dRule.kernelMajorRows = v == 2;
                    Conv2dRule.keepOutGrad = v == 2;
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    if (v == 0) np.accumulateUnclipped(b);
                    else auto.accumulateClipped(b, 1.0);
                    long t1 = System.nanoTime();
                    long c1 = os.getProcessCpuTime();
                    (v == 0 ? np : auto).drainGradientSum(grad);
                    if (s < 0) continue;
                    wall[v][s] = (t1 - t0) / 1e6;
                    cpu[v] += (c1 - c0) / 1e6;
                }
            }
            Conv2dRule.kernelMajorRows = true;
            Conv2dRule.keepOutGrad = true;
            for (int v = 0; v < 3; v++) {
                double[] w = wall[v].clone();
                Arrays.sort(w);
                System.out.printf(
                        "%-40s wall median %7.1f ms [%7.1f, %7.1f]  cpu mean %7.1f ms%n",
                        names[v], w[steps / 2], w[0], w[steps - 1], cpu[v] / steps);
            }
            System.out.printf("load %.1f%n", os.getSystemLoadAverage());
        }
    }
}
