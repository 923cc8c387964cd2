package org.dpsgd.noise;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Measures secure noise (not a test): java -cp ... org.dpsgd.noise.NoiseBenchmark [coordinates] [reps].
 * Uses only {@code SecureGaussianNoise.create()} and {@code addGaussian}, so the same file also
 * compiles against older versions of this package, which is how docs/benchmarks.md measured
 * "before" (pin the JVM with {@code taskset -c 0} for one core). Reports the median [min, max] of
 * wall time and the median process CPU time per coordinate; on a shared machine the CPU time is
 * the steadier number. {@code dpsgd bench --noise-only} is the user-facing measurement.
 */
public final class NoiseBenchmark {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 11_689_512; // ResNet-18 parameters
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        float[] v = new float[n];
        NoiseSource s = SecureGaussianNoise.create();
        for (int r = 0; r < 3; r++) s.addGaussian(v, 1.0); // warm-up
        double[] wall = new double[reps], cpu = new double[reps];
        for (int r = 0; r < reps; r++) {
            long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
            s.addGaussian(v, 1.0);
            wall[r] = (System.nanoTime() - t0) / 1e6;
            cpu[r] = (os.getProcessCpuTime() - c0) / 1e6;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        int cores = Runtime.getRuntime().availableProcessors();
        double median = wall[reps / 2];
        System.out.printf(
                "secure noise, %d coordinates, %d cores visible: wall median %.1f ms [%.1f, %.1f] = %.2f M coordinates/s per core;"
                        + " CPU median %.1f ns/coordinate (%d reps, load %.1f)%n",
                n,
                cores,
                median,
                wall[0],
                wall[reps - 1],
                n / (median / 1e3) / cores / 1e6,
                cpu[reps / 2] * 1e6 / n,
                reps,
                os.getSystemLoadAverage());
    }
}
