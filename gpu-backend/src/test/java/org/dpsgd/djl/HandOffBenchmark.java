package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.dpsgd.backend.DeviceBatch;

/**
 * Measures the host-to-engine hand-off of one batch (not a test): java -cp ... org.dpsgd.djl.HandOffBenchmark
 * C H W batch reps. "three copies" is the hand-off before HostStaging, kept here verbatim (copyOfRange,
 * Precision.create's copy, DJL's copy into a fresh direct buffer); "one copy" is HostStaging. The two
 * alternate within each repetition, so both see the same load; medians of wall time.
 */
public final class HandOffBenchmark {
    public static void main(String[] a) {
        org.dpsgd.model.Shape s =
                new org.dpsgd.model.Shape(Integer.parseInt(a[0]), Integer.parseInt(a[1]), Integer.parseInt(a[2]));
        int slots = Integer.parseInt(a[3]), reps = Integer.parseInt(a[4]);
        DeviceBatch b = new DeviceBatch(s, slots, 1);
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < b.inputs().length; i++) b.inputs()[i] = (float) r.nextDouble();
        Arrays.fill(b.mask(), 1f);
        b.mask()[slots - 1] = 0f;
        HostStaging staging = new HostStaging();
        double[] old = new double[reps], now = new double[reps];
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            for (int i = -5; i < reps; i++) {
                long t0 = System.nanoTime();
                try (NDArray x = threeCopies(m, b, 0, slots)) {
                    x.getShape();
                }
                long t1 = System.nanoTime();
                try (NDArray x = staging.inputs(m, DataType.FLOAT32, b, 0, slots)) {
                    x.getShape();
                }
                long t2 = System.nanoTime();
                if (i >= 0) {
                    old[i] = (t1 - t0) / 1e6;
                    now[i] = (t2 - t1) / 1e6;
                }
            }
        }
        Arrays.sort(old);
        Arrays.sort(now);
        System.out.printf(
                "hand-off of %d x %s (%.1f MB): three copies median %.2f ms [%.2f, %.2f]; one copy median %.2f ms [%.2f, %.2f] (load %.1f)%n",
                slots,
                s,
                b.inputs().length * 4 / 1e6,
                old[reps / 2],
                old[0],
                old[reps - 1],
                now[reps / 2],
                now[0],
                now[reps - 1],
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage());
    }

    private static NDArray threeCopies(NDManager manager, DeviceBatch b, int from, int count) {
        org.dpsgd.model.Shape s = b.shape();
        int k = b.multiplicity();
        int len = count * k * s.size();
        float[] host = Arrays.copyOfRange(b.inputs(), b.inputOffset(from, 0), b.inputOffset(from, 0) + len);
        for (int i = 0; i < count; i++) {
            if (b.mask()[from + i] == 0f) Arrays.fill(host, i * k * s.size(), (i + 1) * k * s.size(), 0f);
        }
        return Precision.FLOAT32.create(
                manager, host, 0, len, new Shape((long) count * k, s.channels(), s.height(), s.width()));
    }
}
