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
import java.util.Arrays;

/**
 * Not a test: resnet18-gn's stem max-pool at batch 64 ([64, 64, 16, 16], k 3, s 2, p 1, float32),
 * forward and backward, DJL's NCHW call and {@link ChannelsLastMaxPool} alternating (A B B A) in one
 * process. java -cp ... org.dpsgd.djl.MaxPoolBenchmark [rounds] [passes per round]. Prints medians.
 */
public final class MaxPoolBenchmark {
    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 9;
        int passes = a.length > 1 ? Integer.parseInt(a[1]) : 5;
        TestSupport.backend();
        double[][] wall = new double[2][rounds];
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            ChannelsLastMaxPool pool = new ChannelsLastMaxPool(m);
            NDArray x = m.randomNormal(new Shape(64, 64, 16, 16)).toType(DataType.FLOAT32, false);
            boolean profile = a.length > 2;
            if (profile) JniUtils.startProfile(false, false, false);
            for (int r = -1; r < rounds; r++) {
                for (int way = 0; way < 2; way++) {
                    int w = (r & 1) == 0 ? way : 1 - way;
                    long t0 = System.nanoTime();
                    for (int q = 0; q < passes; q++) {
                        try (NDScope scope = new NDScope()) {
                            scope.suppressNotUsedWarning();
                            NDArray in = x.duplicate();
                            in.setRequiresGradient(true);
                            ModelRuntime.withGrad(() -> {
                                NDArray y = w == 1
                                        ? pool.apply(in, 3, 2, 1)
                                        : Pool.maxPool2d(in, new Shape(3, 3), new Shape(2, 2), new Shape(1, 1), false);
                                NDArray s = y.sum();
                                JniUtils.backward((PtNDArray) s, (PtNDArray) m.ones(s.getShape()), false, false);
                                return in.getGradient().getShape();
                            });
                        }
                    }
                    if (r >= 0) wall[w][r] = (System.nanoTime() - t0) / 1e6 / passes;
                }
            }
            if (profile) JniUtils.stopProfile(a[2]);
        }
        String[] names = {"NCHW (DJL)", "channels-last"};
        for (int w = 0; w < 2; w++) {
            double[] s = wall[w].clone();
            Arrays.sort(s);
            System.out.printf(
                    "%s: median %.2f ms per forward + backward [%.2f, %.2f]%n",
                    names[w], s[rounds / 2], s[0], s[rounds - 1]);
        }
        System.out.printf(
                "load %.1f%n",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage());
    }
}
