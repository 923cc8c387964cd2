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
 * Not a test: the gradient part of {@code dpsgd bench}'s private and non-private steps (no noise, no update), in wall
 * time AND process CPU time, which a loaded machine disturbs far less than wall time: java -cp ...
 * org.dpsgd.djl.AutoStepProfile model CxHxW batch steps. The two strategies alternate step by step after 2 warm-up
 * steps each. Uses only API that session 7's starting build has too, so the same class runs on either build's
 * classes for an A/B (docs/benchmarks.md "Session 7: resnet18-gn auto").
 */
public final class AutoStepProfile {
    public static void main(String[] a) {
        Network net = ModelZoo.build(org.dpsgd.model.ModelSpec.of(a[0]), Shape.parse(a[1]), 10);
        int slots = Integer.parseInt(a[2]);
        int steps = Integer.parseInt(a[3]);
        DeviceBatch b = TestSupport.batch(net, slots, 1, 42, 1.0);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (DjlTrainableModel np = TestSupport.model(net, "nonprivate", Map.of("seed", "0"), List.of());
                DjlTrainableModel auto = TestSupport.model(net, "auto", Map.of("seed", "0"), List.of())) {
            float[] grad = new float[Math.toIntExact(net.parameterCount())];
            double[][] wall = new double[2][steps];
            double[][] cpu = new double[2][steps];
            for (int s = -2; s < steps; s++) {
                for (int v = 0; v < 2; v++) {
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    if (v == 0) np.accumulateUnclipped(b);
                    else auto.accumulateClipped(b, 1.0);
                    long t1 = System.nanoTime();
                    long c1 = os.getProcessCpuTime();
                    (v == 0 ? np : auto).drainGradientSum(grad);
                    if (s < 0) continue;
                    wall[v][s] = (t1 - t0) / 1e6;
                    cpu[v][s] = (c1 - c0) / 1e6;
                }
            }
            String[] names = {"nonprivate gradient", "auto gradient"};
            for (int v = 0; v < 2; v++) {
                double[] w = wall[v].clone();
                double[] c = cpu[v].clone();
                Arrays.sort(w);
                Arrays.sort(c);
                System.out.printf(
                        "%-20s wall median %8.1f ms [%8.1f, %8.1f]  cpu median %8.1f ms [%8.1f, %8.1f]%n",
                        names[v], w[steps / 2], w[0], w[steps - 1], c[steps / 2], c[0], c[steps - 1]);
            }
            System.out.printf("load %.1f%n", os.getSystemLoadAverage());
        }
    }
}
