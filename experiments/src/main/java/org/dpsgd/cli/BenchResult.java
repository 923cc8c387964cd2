package org.dpsgd.cli;

/**
 * One strategy's numbers: median full-step time, throughput, ratio to the non-private step, peak RSS, and the process's
 * CPU time per step (all threads; NaN where not measured, e.g. a peer's row).
 */
record BenchResult(
        String strategy,
        double medianMs,
        double examplesPerS,
        double ratio,
        double peakMb,
        double clipMedianMs,
        double noiseMedianMs,
        double cpuMeanMs) {
    BenchResult withRatio(double baselineMs) {
        return new BenchResult(
                strategy,
                medianMs,
                examplesPerS,
                Double.isNaN(baselineMs) ? Double.NaN : medianMs / baselineMs,
                peakMb,
                clipMedianMs,
                noiseMedianMs,
                cpuMeanMs);
    }
}
