package org.dpsgd.djl;

import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Splits the non-private step of {@code dpsgd bench} into its parts (not a test): java -cp ...
 * org.dpsgd.djl.NonPrivateStepProfile model CxHxW batch steps [trace.json]. Prints the median wall
 * time of the gradient ({@code accumulateUnclipped}), the drain to the host, the host SGD update and
 * {@code writeParameters}; with a file name, also writes the DJL profiler's trace of 3 more steps
 * (chrome trace JSON: per-op self times, aggregate them with any JSON tool).
 */
public final class NonPrivateStepProfile {
    public static void main(String[] a) throws Exception {
        Network net = ModelZoo.build(org.dpsgd.model.ModelSpec.of(a[0]), Shape.parse(a[1]), 10);
        int slots = Integer.parseInt(a[2]);
        int steps = Integer.parseInt(a[3]);
        DeviceBatch b = TestSupport.batch(net, slots, 1, 42, 1.0);
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", Map.of("seed", "0"), List.of())) {
            System.out.println("threads: " + DjlThreads.describe());
            int n = Math.toIntExact(net.parameterCount());
            float[] params = new float[n];
            float[] grad = new float[n];
            m.readParameters(params);
            double[][] t = new double[4][steps];
            for (int s = -2; s < steps; s++) {
                long t0 = System.nanoTime();
                m.accumulateUnclipped(b);
                long t1 = System.nanoTime();
                m.drainGradientSum(grad);
                long t2 = System.nanoTime();
                float scale = (float) (0.01 / slots);
                for (int k = 0; k < n; k++) params[k] -= scale * grad[k];
                long t3 = System.nanoTime();
                m.writeParameters(params);
                long t4 = System.nanoTime();
                if (s < 0) continue;
                t[0][s] = (t1 - t0) / 1e6;
                t[1][s] = (t2 - t1) / 1e6;
                t[2][s] = (t3 - t2) / 1e6;
                t[3][s] = (t4 - t3) / 1e6;
            }
            String[] names = {"accumulateUnclipped", "drain", "host update", "writeParameters"};
            for (int i = 0; i < 4; i++) {
                double[] x = t[i].clone();
                Arrays.sort(x);
                System.out.printf("%-20s median %8.2f ms [%8.2f, %8.2f]%n", names[i], x[steps / 2], x[0], x[steps - 1]);
            }
            System.out.printf(
                    "load %.1f%n",
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                            .getSystemLoadAverage());
            if (a.length > 4) {
                JniUtils.startProfile(false, true, false);
                for (int s = 0; s < 3; s++) {
                    m.accumulateUnclipped(b);
                    m.drainGradientSum(grad);
                    m.writeParameters(params);
                }
                JniUtils.stopProfile(a[4]);
            }
        }
    }
}
