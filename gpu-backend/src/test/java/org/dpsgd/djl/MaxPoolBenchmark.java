package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Not a test: resnet18-gn's stem max-pool at batch 64 ([64, 64, 16, 16], k 3, s 2, p 1, float32),
 * forward and backward, DJL's NCHW call and {@link ChannelsLastMaxPool} alternating (A B B A) in one
 * process. java -cp ... org.dpsgd.djl.MaxPoolBenchmark [rounds] [passes per round]. Prints medians.
 */
public final class MaxPoolBenchmark {
    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 9;
        int passes = a.length > 1 ? Integer.parseInt(a[1]) : 5;
        // optional geometry: N C H W k s p (default resnet18-gn's stem pool)
        long[] g = a.length > 8
                ? new long[] {Long.parseLong(a[2]), Long.parseLong(a[3]), Long.parseLong(a[4]), Long.parseLong(a[5])}
                : new long[] {64, 64, 16, 16};
        int k = a.length > 8 ? Integer.parseInt(a[6]) : 3;
        int st = a.length > 8 ? Integer.parseInt(a[7]) : 2;
        int pd = a.length > 8 ? Integer.parseInt(a[8]) : 1;
        TestSupport.backend();
        double[][] wall = new double[2][rounds];
        double[][] cpu = new double[2][rounds];
        var os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            ChannelsLastMaxPool pool = new ChannelsLastMaxPool(m);
            NDArray x = m.randomNormal(new Shape(g)).toType(DataType.FLOAT32, false);
            boolean profile = a.length == 3 || a.length > 9;
            if (profile) JniUtils.startProfile(false, false, false);
            for (int r = -1; r < rounds; r++) {
                for (int way = 0; way < 2; way++) {
                    int w = (r & 1) == 0 ? way : 1 - way;
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    for (int q = 0; q < passes; q++) {
                        try (NDScope scope = new NDScope()) {
                            scope.suppressNotUsedWarning();
                            NDArray in = x.duplicate();
                            in.setRequiresGradient(true);
                            ModelRuntime.withGrad(() -> {
                                NDArray y = w == 1
                                        ? pool.apply(in, k, st, pd)
                                        : Pool.maxPool2d(
                                                in, new Shape(k, k), new Shape(st, st), new Shape(pd, pd), false);
                                NDArray s = y.sum();
                                JniUtils.backward((PtNDArray) s, (PtNDArray) m.ones(s.getShape()), false, false);
                                return in.getGradient().getShape();
                            });
                        }
                    }
                    if (r >= 0) {
                        wall[w][r] = (System.nanoTime() - t0) / 1e6 / passes;
                        cpu[w][r] = (os.getProcessCpuTime() - c0) / 1e6 / passes;
                    }
                }
            }
            if (profile) JniUtils.stopProfile(a[a.length - 1]);
        }
        AbMedians.print(new String[] {"NCHW (DJL)", "channels-last"}, wall, cpu, "forward + backward");
    }
}
