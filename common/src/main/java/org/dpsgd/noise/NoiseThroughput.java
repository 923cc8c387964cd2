package org.dpsgd.noise;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Times secure noise alone ({@code SecureGaussianNoise.addGaussian} on one vector, on a pool of a
 * given size): what {@code dpsgd bench --noise-only} prints. Wall-clock times, so on a shared
 * machine they include whatever else ran; hence the median and the spread of several repetitions.
 */
public final class NoiseThroughput {
    private NoiseThroughput() {}

    /** Timings of {@code reps} draws of {@code coordinates} on {@code threads} threads; {@code ghz} NaN when unknown. */
    public record Result(int threads, int coordinates, double medianMs, double minMs, double maxMs, double ghz) {
        /** Coordinates per second per thread, at the median time. */
        public double perCorePerSecond() {
            return coordinates / (medianMs / 1e3) / threads;
        }

        /** CPU cycles per coordinate on one thread, at the median time and the nominal clock. */
        public double cyclesPerCoordinate() {
            return ghz * 1e9 / perCorePerSecond();
        }
    }

    /** Draws {@code warmup} untimed then {@code reps} timed secure noise vectors of {@code coordinates} on {@code threads} threads. */
    public static Result measure(int coordinates, int threads, int warmup, int reps) {
        if (coordinates < 1) throw new IllegalArgumentException("noise coordinates must be >= 1, got " + coordinates);
        if (reps < 1) throw new IllegalArgumentException("repetitions must be >= 1, got " + reps);
        NoiseSource noise = SecureGaussianNoise.create(NoisePool.of(threads));
        float[] v = new float[coordinates];
        for (int r = 0; r < warmup; r++) noise.addGaussian(v, 1.0);
        double[] ms = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            noise.addGaussian(v, 1.0);
            ms[r] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        double median = reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
        return new Result(threads, coordinates, median, ms[0], ms[reps - 1], cpuGhz());
    }

    /** The mean "cpu MHz" of /proc/cpuinfo in GHz (the clock the kernel reports, not a turbo clock); NaN when unreadable. */
    public static double cpuGhz() {
        try {
            List<String> mhz = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("cpu MHz")).toList();
            return mhz.stream().mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(':') + 1).trim())).average().orElse(Double.NaN) / 1e3;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
