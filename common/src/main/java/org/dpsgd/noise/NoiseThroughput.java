package org.dpsgd.noise;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Times secure noise alone as the trainer adds it (one {@link NoiseSource#openDraw draw} per vector, added
 * to float64 pieces of a given length, each piece then rounded to float once, as
 * {@code PiecewiseNoisySum.release} does; on a pool of a given size): what
 * {@code dpsgd bench --noise-only} prints. Wall-clock times, so on a shared
 * machine they include whatever else ran; hence the median and the spread of several repetitions.
 */
public final class NoiseThroughput {
    private NoiseThroughput() {}

    /** Timings of {@code reps} draws of {@code coordinates} on {@code threads} threads; {@code ghz} NaN when unknown. */
    public record Result(
            int threads, int coordinates, double medianMs, double minMs, double maxMs, double meanCpuMs, double ghz) {
        /** Coordinates per second per thread, at the median time. */
        public double perCorePerSecond() {
            return coordinates / (medianMs / 1e3) / threads;
        }

        /** CPU cycles per coordinate on one thread, at the median wall time and the reported clock. */
        public double cyclesPerCoordinate() {
            return ghz * 1e9 / perCorePerSecond();
        }

        /**
         * Cycles per coordinate from the process's CPU time (mean over the draws: the OS counts it
         * in 10 ms ticks) at the reported clock: what the draws cost in CPU whatever the wall clock
         * saw; it too grows when neighbours share the cores' caches and hyper-threads, but it does
         * not count time spent waiting for a core.
         */
        public double cpuCyclesPerCoordinate() {
            return ghz * 1e6 * meanCpuMs / coordinates;
        }
    }

    /**
     * Draws {@code warmup} untimed then {@code reps} timed secure noise vectors of {@code coordinates} on
     * {@code threads} threads, in float64 pieces of {@code piece} coordinates (the trainer's drain piece).
     */
    public static Result measure(int coordinates, int threads, int warmup, int reps, int piece) {
        if (coordinates < 1) throw new IllegalArgumentException("noise coordinates must be >= 1, got " + coordinates);
        if (reps < 1) throw new IllegalArgumentException("repetitions must be >= 1, got " + reps);
        if (piece < 1) throw new IllegalArgumentException("noise piece must be >= 1, got " + piece);
        NoiseSource noise = SecureGaussianNoise.create(NoisePool.of(threads));
        PieceBuffers v = new PieceBuffers(Math.min(piece, coordinates));
        float[] rounded = new float[coordinates];
        for (int r = 0; r < warmup; r++) addAndRound(noise, v, rounded);
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] ms = new double[reps];
        long cpu0 = os.getProcessCpuTime();
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            addAndRound(noise, v, rounded);
            ms[r] = (System.nanoTime() - t0) / 1e6;
        }
        double cpuMs = (os.getProcessCpuTime() - cpu0) / 1e6 / reps;
        Arrays.sort(ms);
        return new Result(threads, coordinates, median(ms), ms[0], ms[reps - 1], cpuMs, cpuGhz());
    }

    /**
     * The trainer's noise (PiecewiseNoisySum.release): one draw over the vector, added piece by piece to
     * float64 buffers (zeroed here where the trainer drains the clipped sum into them), each piece
     * rounded to float once, after its noise; a piece's noise runs on the pool while the next piece is
     * filled (two buffers, as the trainer).
     */
    private static void addAndRound(NoiseSource noise, PieceBuffers buffers, float[] rounded) {
        int n = rounded.length;
        GaussianDraw draw = noise.openDraw(n, 1.0);
        try {
            for (int a = 0; a < n; a += buffers.length()) {
                int len = Math.min(buffers.length(), n - a);
                double[] piece = buffers.next();
                Arrays.fill(piece, 0, len, 0.0);
                buffers.track(draw.startAddRounded(piece, 0, a, len, rounded, a));
            }
        } finally {
            buffers.awaitAll();
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** The mean "cpu MHz" of /proc/cpuinfo in GHz (the clock the kernel reports, not a turbo clock); NaN when unreadable. */
    public static double cpuGhz() {
        try {
            List<String> mhz = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("cpu MHz"))
                    .toList();
            return mhz.stream()
                            .mapToDouble(l -> Double.parseDouble(
                                    l.substring(l.indexOf(':') + 1).trim()))
                            .average()
                            .orElse(Double.NaN)
                    / 1e3;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
