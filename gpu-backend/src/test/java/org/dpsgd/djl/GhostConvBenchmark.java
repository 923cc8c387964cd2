package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Not a test: the pieces of the ghost conv path of resnet18-gn at 3x32x32, batch 64 (its 15 ghost convs, layer2–4),
 * interleaved in one process so that all see the same load: the float64 unfold by strided slices (kernel-major, the
 * session-6 path) against {@link NativeConvUnfold#unfoldRows} (weight order); the clipped-sum matmul
 * (c∘g)ᵀa, [p, S·T'] · [S·T', d], in float64 and in float32 (achieved GFLOP/s), and the reorder of its [p, d]
 * result to weight order. java -cp ... org.dpsgd.djl.GhostConvBenchmark [rounds]: medians of wall and process CPU.
 */
public final class GhostConvBenchmark {
    /** in channels, input H (= W), out channels p, kernel, stride, padding. */
    record Geo(String name, int in, int h, int p, int k, int st, int pad) {
        long out() {
            return (h + 2L * pad - k) / st + 1;
        }

        long d() {
            return (long) in * k * k;
        }
    }

    static final Geo[] GHOST = {
        new Geo("layer2.0.conv1", 64, 8, 128, 3, 2, 1),
        new Geo("layer2.0.conv2", 128, 4, 128, 3, 1, 1),
        new Geo("layer2.0.downsample.0", 64, 8, 128, 1, 2, 0),
        new Geo("layer2.1.conv1", 128, 4, 128, 3, 1, 1),
        new Geo("layer2.1.conv2", 128, 4, 128, 3, 1, 1),
        new Geo("layer3.0.conv1", 128, 4, 256, 3, 2, 1),
        new Geo("layer3.0.conv2", 256, 2, 256, 3, 1, 1),
        new Geo("layer3.0.downsample.0", 128, 4, 256, 1, 2, 0),
        new Geo("layer3.1.conv1", 256, 2, 256, 3, 1, 1),
        new Geo("layer3.1.conv2", 256, 2, 256, 3, 1, 1),
        new Geo("layer4.0.conv1", 256, 2, 512, 3, 2, 1),
        new Geo("layer4.0.conv2", 512, 1, 512, 3, 1, 1),
        new Geo("layer4.0.downsample.0", 256, 2, 512, 1, 2, 0),
        new Geo("layer4.1.conv1", 512, 1, 512, 3, 1, 1),
        new Geo("layer4.1.conv2", 512, 1, 512, 3, 1, 1),
    };

    public static void main(String[] a) {
        int rounds = a.length > 0 ? Integer.parseInt(a[0]) : 10;
        int slots = 64;
        TestSupport.backend();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold nat = new NativeConvUnfold(m);
            NDArray[] x = new NDArray[GHOST.length];
            NDArray[] g64 = new NDArray[GHOST.length];
            NDArray[] u64 = new NDArray[GHOST.length];
            NDArray[] g32 = new NDArray[GHOST.length];
            NDArray[] u32 = new NDArray[GHOST.length];
            NDArray[] sum = new NDArray[GHOST.length];
            double macs = 0;
            for (int i = 0; i < GHOST.length; i++) {
                Geo geo = GHOST[i];
                long rows = slots * geo.out() * geo.out();
                x[i] = m.randomNormal(new Shape(slots, geo.in(), geo.h(), geo.h()))
                        .toType(DataType.FLOAT64, false);
                g64[i] = m.randomNormal(new Shape(rows, geo.p())).toType(DataType.FLOAT64, false);
                u64[i] = m.randomNormal(new Shape(rows, geo.d())).toType(DataType.FLOAT64, false);
                g32[i] = g64[i].toType(DataType.FLOAT32, false);
                u32[i] = u64[i].toType(DataType.FLOAT32, false);
                sum[i] = m.randomNormal(new Shape(geo.p(), geo.k() * geo.k(), geo.in()))
                        .toType(DataType.FLOAT64, false);
                macs += (double) rows * geo.p() * geo.d();
                // The two unfolds agree value for value once reordered (both are copies).
                NDArray s = slices(x[i], geo);
                NDArray r = nat.unfoldRows(x[i], geo.k(), geo.st(), geo.pad(), 1);
                NDArray back = s.reshape(slots, -1, geo.k() * geo.k(), geo.in())
                        .transpose(0, 1, 3, 2)
                        .reshape(r.getShape());
                if (!back.contentEquals(r)) throw new AssertionError("unfolds differ at " + geo.name());
            }
            String[] names = {
                "unfold f64, slices (kernel-major)",
                "unfold f64, native rows (weight order)",
                "clipped-sum matmul f64 gᵀ·u",
                "clipped-sum matmul f32 gᵀ·u",
                "reorder [p, d] kernel-major -> weight",
            };
            Function<Integer, Void>[] variants = new Function[5];
            variants[0] = i -> close(slices(x[i], GHOST[i]));
            variants[1] = i -> close(nat.unfoldRows(x[i], GHOST[i].k(), GHOST[i].st(), GHOST[i].pad(), 1));
            variants[2] = i -> close(g64[i].transpose().matMul(u64[i]));
            variants[3] = i -> close(g32[i].transpose().matMul(u32[i]));
            variants[4] = i -> close(sum[i].transpose(0, 2, 1).reshape(GHOST[i].p(), -1));
            double[][] wall = new double[variants.length][rounds];
            double[][] cpu = new double[variants.length][rounds];
            for (int r = -2; r < rounds; r++) {
                for (int v = 0; v < variants.length; v++) {
                    long c0 = os.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < GHOST.length; i++) {
                        try (NDScope scope = new NDScope()) {
                            scope.suppressNotUsedWarning();
                            variants[v].apply(i);
                        }
                    }
                    long t1 = System.nanoTime();
                    long c1 = os.getProcessCpuTime();
                    if (r < 0) continue;
                    wall[v][r] = (t1 - t0) / 1e6;
                    cpu[v][r] = (c1 - c0) / 1e6;
                }
            }
            for (int v = 0; v < variants.length; v++) {
                double med = median(wall[v]);
                String rate = v == 2 || v == 3 ? String.format("  %6.1f GFLOP/s", 2 * macs / med / 1e6) : "";
                System.out.printf(
                        "%-40s wall median %7.2f ms [%7.2f, %7.2f]  cpu median %7.2f ms%s%n",
                        names[v], med, min(wall[v]), max(wall[v]), median(cpu[v]), rate);
            }
            System.out.printf(
                    "%.3f G multiply-adds per clipped sum over the 15 layers; load %.1f%n",
                    macs / 1e9, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    private static Void close(NDArray a) {
        a.close();
        return null;
    }

    /** Conv2dRule's SLICES unfold: padded NHWC copy, k² strided slices stacked, [N, T, d] in (kh, kw, c) order. */
    static NDArray slices(NDArray x, Geo geo) {
        long n = x.getShape().get(0);
        int k = geo.k();
        int st = geo.st();
        int p = geo.pad();
        NDArray padded = p == 0 ? x : x.pad(new Shape(p, p, p, p), 0);
        long hp = geo.h() + 2L * p;
        NDArray nhwc = padded.transpose(0, 2, 3, 1).reshape(n, -1).reshape(n, hp, hp, geo.in());
        long ho = geo.out();
        NDList parts = new NDList(k * k);
        for (int kh = 0; kh < k; kh++) {
            for (int kw = 0; kw < k; kw++) {
                parts.add(nhwc.get(":, " + kh + ":" + (kh + st * (ho - 1) + 1) + ":" + st + ", " + kw + ":"
                        + (kw + st * (ho - 1) + 1) + ":" + st + ", :"));
            }
        }
        return NDArrays.stack(parts, 3).reshape(n, ho * ho, geo.d());
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
