package org.dpsgd.report;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One run as the report sees it (epsilonHolds is false when run.json says the ε is not a guarantee:
 * insecure noise, shuffle sampling): the headline numbers, its flattened config (for lining runs up
 * and diffing), and its metric curves. Values a source does not have are NaN / "".
 *
 * @param swept the sweep's keys and this run's values (empty when the run is not from a sweep.csv)
 * @param rawDiagnostics true when training-set metrics were released raw (not covered by ε)
 * @param epsilonLower the run's one-run audit lower bound (NaN when it carried no audit)
 * @param ignoredSettings config keys (full dotted keys, e.g. {@code backend.settings.precision}) that the
 *     run's backend did not use, from run.json's {@code backend_settings_ignored}
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
        Curves curves,
        Map<String, String> swept,
        boolean rawDiagnostics,
        double epsilonLower,
        Set<String> ignoredSettings) {

    public RunSummary {
        swept = swept == null ? Map.of() : Map.copyOf(swept);
        ignoredSettings = ignoredSettings == null ? Set.of() : Set.copyOf(ignoredSettings);
    }

    /** Metric curves from metrics.jsonl; a field a record lacks is NaN. */
    public record Curves(
            double[] step,
            double[] loss,
            double[] accuracy,
            double[] epsilon,
            double[] evalStep,
            double[] testAccuracy,
            double[] testLoss,
            double[] evalEpsilon) {
        public static final Curves EMPTY = new Curves(
                new double[0],
                new double[0],
                new double[0],
                new double[0],
                new double[0],
                new double[0],
                new double[0],
                new double[0]);
    }

    /** The same run, named by a sweep's values. */
    public RunSummary inSweep(String newLabel, Map<String, String> sweptValues) {
        return new RunSummary(
                newLabel,
                source,
                backend,
                device,
                model,
                batchPlan,
                epsilon,
                delta,
                testAccuracy,
                examplesPerSecond,
                seconds,
                steps,
                status,
                epsilonHolds,
                config,
                curves,
                sweptValues,
                rawDiagnostics,
                epsilonLower,
                ignoredSettings);
    }

    /** The config without the keys a command line may change (backend, device): runs equal here are "the same experiment". */
    public Map<String, String> experimentKey() {
        Map<String, String> k = new TreeMap<>(config);
        k.keySet().removeIf(key -> key.startsWith("backend."));
        return k;
    }

    /** "djl cpu", "ipu ipu x16": where the run ran. */
    public String hardware() {
        return ((backend.isEmpty() ? "?" : backend) + (device.isEmpty() ? "" : " " + device)).trim();
    }
}
