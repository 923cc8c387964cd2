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
 * Not a test: the non-private step's update alone, resnet18-gn at 3x32x32, batch 64, float32: the host
 * round trip (float drain, SGD on the host, parameter write) against the in-place device update
 * ({@link InPlaceSgd}), alternating in one process so both see the same load; the gradient sum of each
 * round is made first and not timed. java -cp ... org.dpsgd.djl.UpdateBenchmark [rounds]. Prints the
 * median wall and process-CPU ms of each.
 */
public final class UpdateBenchmark {
    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 10;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Network net = ModelZoo.build(ModelSpec.of("resnet18-gn"), Shape.parse("3x32x32"), 10);
        int n = (int) net.parameterCount();
        DeviceBatch b = TestSupport.batch(net, 64, 1, 1, 1.0);
        double[][] wall = new double[2][rounds];
        double[][] sumWall = new double[2][rounds];
        double[][] cpu = new double[2][rounds];
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", "float32", List.of())) {
            DeviceSgd sgd = m.deviceSgd().orElseThrow();
            float[] p = new float[n];
            float[] g = new float[n];
            m.readParameters(p);
            boolean phases = a.length > 1 && a[1].equals("phases");
            for (int q = 0; q < (phases ? 2 * (rounds + 2) : rounds + 2); q++) {
                int r = phases ? q % (rounds + 2) - 2 : q - 2;
                for (int way = phases ? q / (rounds + 2) : 0; way < (phases ? q / (rounds + 2) + 1 : 2); way++) {
                    long s0 = System.nanoTime();
                    m.accumulateUnclipped(b);
                    if (r >= 0) sumWall[way][r] = (System.nanoTime() - s0) / 1e6;
                    if (phases)
                        System.out.printf("way %d round %d: sum %.1f ms%n", way, r, (System.nanoTime() - s0) / 1e6);
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    if (way == 0) {
                        m.drainGradientSum(g);
                        float scale = (float) (0.01 / 64);
                        for (int k = 0; k < n; k++) p[k] -= scale * g[k];
                        m.writeParameters(p);
                    } else {
                        sgd.step(64, 0.01);
                    }
                    if (r >= 0) {
                        wall[way][r] = (System.nanoTime() - t0) / 1e6;
                        cpu[way][r] = (os.getProcessCpuTime() - c0) / 1e6;
                    }
                }
                m.readParameters(p); // the host copy follows the device update, as the trainer's re-read
            }
        }
        String[] names = {"host round trip", "device in place"};
        for (int w = 0; w < 2; w++)
            System.out.printf(
                    "%s: median wall %.1f ms, cpu %.1f ms; wall %s; the gradient sum before it: median %.1f ms%n",
                    names[w], median(wall[w]), median(cpu[w]), Arrays.toString(wall[w]), median(sumWall[w]));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
