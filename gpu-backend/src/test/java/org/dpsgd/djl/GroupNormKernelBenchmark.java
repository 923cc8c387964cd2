package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Not a test: the non-recording GroupNorm forward + backward of resnet18-gn at 3x32x32, batch 64 (its 20
 * GroupNorm shapes), as PyTorch's one kernel ({@link NativeGroupNorm}) against the composed layer-norm +
 * fused affine, interleaved in one process so that both see the same load. java -cp ...
 * org.dpsgd.djl.GroupNormKernelBenchmark [rounds]. Prints the median wall and process-CPU ms of 5 passes
 * over the 20 layers.
 */
public final class GroupNormKernelBenchmark {
    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 10;
        TestSupport.backend();
        // resnet18-gn, imagenet stem, 3x32x32: stem 64@16x16, layer1 4x 64@8x8, layer2 5x 128@4x4, layer3 5x 256@2x2,
        // layer4 5x 512@1x1
        long[][] shapes = new long[20][];
        int k = 0;
        shapes[k++] = new long[] {64, 64, 16, 16};
        for (int i = 0; i < 4; i++) shapes[k++] = new long[] {64, 64, 8, 8};
        for (int i = 0; i < 5; i++) shapes[k++] = new long[] {64, 128, 4, 4};
        for (int i = 0; i < 5; i++) shapes[k++] = new long[] {64, 256, 2, 2};
        for (int i = 0; i < 5; i++) shapes[k++] = new long[] {64, 512, 1, 1};
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            Constants constants = new Constants(m, Precision.FLOAT32);
            NDArray[][] inputs = new NDArray[shapes.length][];
            for (int i = 0; i < shapes.length; i++) {
                Shape s = new Shape(shapes[i]);
                Shape c = new Shape(shapes[i][1]);
                inputs[i] = new NDArray[] {m.randomNormal(s), m.randomNormal(c), m.randomNormal(c), m.randomNormal(s)};
            }
            double[][] wall = new double[2][rounds];
            double[][] cpu = new double[2][rounds];
            for (int r = -2; r < rounds; r++) {
                for (int variant = 0; variant < 2; variant++) {
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    for (int rep = 0; rep < 5; rep++) for (NDArray[] in : inputs) pass(in, constants, variant == 0);
                    long t1 = System.nanoTime();
                    long c1 = os.getProcessCpuTime();
                    if (r < 0) continue;
                    wall[variant][r] = (t1 - t0) / 1e6;
                    cpu[variant][r] = (c1 - c0) / 1e6;
                }
            }
            String[] names = {"native group_norm", "layer-norm + fused affine"};
            for (int v = 0; v < 2; v++) {
                Arrays.sort(wall[v]);
                Arrays.sort(cpu[v]);
                System.out.printf(
                        "%-26s wall median %7.2f ms [%7.2f, %7.2f]  cpu median %7.2f ms%n",
                        names[v], wall[v][rounds / 2], wall[v][0], wall[v][rounds - 1], cpu[v][rounds / 2]);
            }
            System.out.printf(
                    "load %.1f%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static void pass(NDArray[] in, Constants constants, boolean nativeKernel) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = in[0].stopGradient();
            NDArray gamma = in[1].stopGradient();
            NDArray beta = in[2].stopGradient();
            x.setRequiresGradient(true);
            gamma.setRequiresGradient(true);
            beta.setRequiresGradient(true);
            ModelRuntime.withGrad(() -> {
                NDArray y = nativeKernel
                        ? constants.groupNorm().apply(x, 32, 1e-5, gamma, beta)
                        : GroupNormRule.fusedAffine(
                                GroupNormRule.normalize(x, 32, 1e-5, constants), gamma, beta, constants);
                JniUtils.backward((PtNDArray) y, (PtNDArray) in[3], false, false);
                return null;
            });
        }
    }
}
