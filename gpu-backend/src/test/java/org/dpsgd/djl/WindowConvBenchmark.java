package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Not a test: resnet18-gn's layer4 convolutions at 3x32x32, batch 64, float32 (three 3x3 on 1x1 maps,
 * the strided 3x3 and the strided 1x1 shortcut on 2x2 maps), forward and backward (x, w), DJL's
 * convolution and {@link WindowConv} alternating (A B B A) in one process.
 * java -cp ... org.dpsgd.djl.WindowConvBenchmark [rounds] [trace.json]. Prints medians per pass over the five.
 */
public final class WindowConvBenchmark {
    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 9;
        TestSupport.backend();
        // {C_in, H, k, stride, padding, C_out, calls}
        int[][] convs = {{512, 1, 3, 1, 1, 512, 3}, {256, 2, 3, 2, 1, 512, 1}, {256, 2, 1, 2, 0, 512, 1}};
        double[][] wall = new double[2][rounds];
        double[][] cpu = new double[2][rounds];
        var os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray[] xs = new NDArray[convs.length];
            NDArray[] ws = new NDArray[convs.length];
            for (int i = 0; i < convs.length; i++) {
                int[] g = convs[i];
                xs[i] = m.randomNormal(new Shape(64, g[0], g[1], g[1]));
                ws[i] = m.randomNormal(new Shape(g[5], g[0], g[2], g[2]));
            }
            boolean profile = a.length > 1;
            if (profile) JniUtils.startProfile(false, true, false);
            for (int r = -1; r < rounds; r++) {
                for (int way = 0; way < 2; way++) {
                    int w = (r & 1) == 0 ? way : 1 - way;
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < convs.length; i++) {
                        int[] g = convs[i];
                        for (int q = 0; q < g[6]; q++) {
                            try (NDScope scope = new NDScope()) {
                                scope.suppressNotUsedWarning();
                                NDArray x = xs[i].duplicate();
                                NDArray wt = ws[i].duplicate();
                                x.setRequiresGradient(true);
                                wt.setRequiresGradient(true);
                                ModelRuntime.withGrad(() -> {
                                    NDArray y = w == 1
                                            ? WindowConv.apply(x, wt, null, g[3], g[4])
                                            : ai.djl.nn.convolutional.Conv2d.conv2d(
                                                            x,
                                                            wt,
                                                            null,
                                                            new Shape(g[3], g[3]),
                                                            new Shape(g[4], g[4]),
                                                            new Shape(1, 1),
                                                            1)
                                                    .singletonOrThrow();
                                    NDArray s = y.sum();
                                    JniUtils.backward((PtNDArray) s, (PtNDArray) m.ones(s.getShape()), false, false);
                                    return wt.getGradient().getShape();
                                });
                            }
                        }
                    }
                    if (r >= 0) {
                        wall[w][r] = (System.nanoTime() - t0) / 1e6;
                        cpu[w][r] = (os.getProcessCpuTime() - c0) / 1e6;
                    }
                }
            }
            if (profile) JniUtils.stopProfile(a[1]);
        }
        AbMedians.print(
                new String[] {"convolution (DJL)", "WindowConv"},
                wall,
                cpu,
                "pass of layer4's five, forward + backward");
    }
}
