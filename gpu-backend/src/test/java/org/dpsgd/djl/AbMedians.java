package org.dpsgd.djl;

import java.util.Arrays;

/**
 * What the in-process A/B benchmark mains ({@code MaxPoolBenchmark}, {@code WindowConvBenchmark}) print: per
 * variant the median wall time over the rounds with its range and the median process CPU, then the load average
 * (timings on a shared machine mean little without it).
 */
final class AbMedians {
    private AbMedians() {}

    /** {@code wall[w][r]}, {@code cpu[w][r]}: variant w's ms in round r; {@code what}: what one timing covers. */
    static void print(String[] names, double[][] wall, double[][] cpu, String what) {
        for (int w = 0; w < names.length; w++) {
            double[] s = wall[w].clone();
            Arrays.sort(s);
            double[] c = cpu[w].clone();
            Arrays.sort(c);
            int rounds = s.length;
            System.out.printf(
                    "%s: median %.2f ms per %s [%.2f, %.2f], process CPU %.1f ms%n",
                    names[w], s[rounds / 2], what, s[0], s[rounds - 1], c[rounds / 2]);
        }
        System.out.printf(
                "load %.1f%n",
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage());
    }
}
