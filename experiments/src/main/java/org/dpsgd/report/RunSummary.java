package org.dpsgd.report;

import java.util.Map;

/**
 * One run as the report sees it (epsilonHolds is false when run.json says the ε is not a guarantee:
 * insecure noise, shuffle sampling): the headline numbers, its flattened config (for lining runs up
 * and diffing), and its metric curves. Values a source does not have are NaN / "".
 */
public record RunSummary(
        String label,
        String source,
        String backend,
        String device,
        String model,
        String batchPlan,
        double epsilon,
        double delta,
        double testAccuracy,
        double examplesPerSecond,
        double seconds,
        long steps,
        String status,
        boolean epsilonHolds,
        Map<String, String> config,
        Curves curves) {

    /** Metric curves from metrics.jsonl. */
    public record Curves(double[] step, double[] loss, double[] accuracy, double[] epsilon,
                        double[] evalStep, double[] testAccuracy, double[] testLoss, double[] evalEpsilon) {
        public static final Curves EMPTY = new Curves(new double[0], new double[0], new double[0], new double[0],
                new double[0], new double[0], new double[0], new double[0]);
    }

    /** The config without the keys a command line may change (backend, device): runs equal here are "the same experiment". */
    public Map<String, String> experimentKey() {
        Map<String, String> k = new java.util.TreeMap<>(config);
        k.keySet().removeIf(key -> key.startsWith("backend."));
        return k;
    }
}
