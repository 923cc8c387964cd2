package org.dpsgd.cli;

/** One strategy's numbers: median full-step time, throughput, ratio to the non-private step, peak RSS. */
record BenchResult(
        String strategy,
        double medianMs,
        double examplesPerS,
        double ratio,
        double peakMb,
        double clipMedianMs,
        double noiseMedianMs) {
    BenchResult withRatio(double baselineMs) {
        return new BenchResult(
                strategy,
                medianMs,
                examplesPerS,
                Double.isNaN(baselineMs) ? Double.NaN : medianMs / baselineMs,
                peakMb,
                clipMedianMs,
                noiseMedianMs);
    }
}
