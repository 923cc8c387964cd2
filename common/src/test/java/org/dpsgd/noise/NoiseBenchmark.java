package org.dpsgd.noise;

import java.lang.management.ManagementFactory;

/**
 * Measures noise throughput (not a test): java -cp ... org.dpsgd.noise.NoiseBenchmark [coordinates] [reps].
 * Reports wall time and process CPU time; on a shared machine the CPU time per coordinate is the
 * steadier number (uncontended wall time on c cores ≈ CPU time / c).
 */
public final class NoiseBenchmark {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 11_689_512; // ResNet-18 parameters
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        float[] v = new float[n];
        for (NoiseSource s : new NoiseSource[] {SecureGaussianNoise.create(), new FastInsecureGaussianNoise(1)}) {
            s.addGaussian(v, 1.0); // warm-up
            long bestWall = Long.MAX_VALUE, bestCpu = Long.MAX_VALUE;
            for (int r = 0; r < reps; r++) {
                long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
                s.addGaussian(v, 1.0);
                bestWall = Math.min(bestWall, System.nanoTime() - t0);
                bestCpu = Math.min(bestCpu, os.getProcessCpuTime() - c0);
            }
            System.out.printf("%s: %d coordinates: wall %.1f ms = %.1f ns/coordinate, CPU %.1f ns/coordinate (best of %d, %d cores, load %.1f)%n",
                    s.mode(), n, bestWall / 1e6, (double) bestWall / n, (double) bestCpu / n, reps,
                    Runtime.getRuntime().availableProcessors(), os.getSystemLoadAverage());
        }
    }
}
