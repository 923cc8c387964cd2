package org.dpsgd.cli;

import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How many steps at which sampling rate: either {@code --sampling-rate Q --steps T}, or
 * {@code --dataset-size N --batch-size B --epochs K} (q = B/N, T = ceil(K·N/B)). A picocli mixin.
 */
final class PrivacyRunShape {
    @Option(names = "--sampling-rate", paramLabel = "Q", description = "Poisson sampling rate q in (0, 1].")
    Double samplingRate;

    @Option(names = "--steps", paramLabel = "T", description = "Number of DP-SGD steps (>= 1).")
    Long steps;

    @Option(
            names = "--dataset-size",
            paramLabel = "N",
            description = "Training set size (instead of --sampling-rate/--steps).")
    Long datasetSize;

    @Option(names = "--batch-size", paramLabel = "B", description = "Expected (logical) batch size: q = B/N.")
    Long batchSize;

    @Option(names = "--epochs", paramLabel = "K", description = "Epochs: T = ceil(K·N/B). May be fractional.")
    Double epochs;

    /** Resolved and validated q and T. */
    record Resolved(double samplingRate, long steps, Long datasetSize) {}

    Resolved resolve() {
        boolean direct = samplingRate != null || steps != null;
        boolean fromData = datasetSize != null || batchSize != null || epochs != null;
        if (direct && fromData) {
            throw new IllegalArgumentException(
                    "give either --sampling-rate and --steps, or --dataset-size, --batch-size and --epochs, not both");
        }
        if (fromData) {
            if (datasetSize == null || batchSize == null || epochs == null) {
                throw new IllegalArgumentException(
                        "--dataset-size, --batch-size and --epochs go together: all three are needed");
            }
            if (datasetSize < 1) throw new IllegalArgumentException("--dataset-size must be >= 1, got " + datasetSize);
            if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
            if (batchSize > datasetSize) {
                throw new IllegalArgumentException("--batch-size " + batchSize + " exceeds --dataset-size "
                        + datasetSize + " (q = B/N must be <= 1)");
            }
            if (!(epochs > 0) || Double.isInfinite(epochs))
                throw new IllegalArgumentException("--epochs must be a finite number > 0, got " + epochs);
            double q = (double) batchSize / datasetSize;
            long t = (long) Math.ceil(epochs * datasetSize / batchSize);
            return new Resolved(q, Math.max(1, t), datasetSize);
        }
        if (samplingRate == null)
            throw new IllegalArgumentException(
                    "missing --sampling-rate Q (or give --dataset-size, --batch-size and --epochs)");
        if (steps == null)
            throw new IllegalArgumentException("missing --steps T (or give --dataset-size, --batch-size and --epochs)");
        if (!(samplingRate > 0 && samplingRate <= 1))
            throw new IllegalArgumentException("--sampling-rate must be in (0, 1], got " + samplingRate);
        if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        return new Resolved(samplingRate, steps, null);
    }

    /** Adds what the user gave in dataset form to a JSON report. */
    void describe(Map<String, Object> out) {
        if (datasetSize != null) {
            out.put("dataset_size", datasetSize);
            out.put("batch_size", batchSize);
            out.put("epochs", epochs);
        }
    }
}
