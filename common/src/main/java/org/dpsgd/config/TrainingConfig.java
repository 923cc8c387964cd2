package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The step schedule.
 *
 * @param batchSize expected logical batch size B; the Poisson sampling rate is q = B / N
 * @param epochs number of epochs (steps = ceil(epochs · N / B)); or give {@code steps}
 * @param steps number of logical steps; overrides epochs
 * @param microBatchSize physical slots per micro-batch (1 = NanoBatch)
 * @param accumulation micro-batches per device call per replica (IPU); 1 elsewhere
 * @param evalEvery evaluate on the test set every K steps (0 = only at the end)
 * @param checkpointEvery checkpoint every K steps (0 = only at the end)
 * @param ema exponential moving average decay of the parameters (e.g. 0.9999), null = off
 * @param logEvery progress line every K steps
 */
public record TrainingConfig(
        @JsonProperty("batch_size") Integer batchSize,
        @JsonProperty("epochs") Double epochs,
        @JsonProperty("steps") Integer steps,
        @JsonProperty("micro_batch_size") Integer microBatchSize,
        @JsonProperty("accumulation") Integer accumulation,
        @JsonProperty("eval_every") Integer evalEvery,
        @JsonProperty("checkpoint_every") Integer checkpointEvery,
        @JsonProperty("ema") Double ema,
        @JsonProperty("log_every") Integer logEvery) {

    public TrainingConfig {
        if (batchSize == null)
            throw new IllegalArgumentException("training.batch_size (expected logical batch size) is required");
        if (batchSize <= 0) throw new IllegalArgumentException("training.batch_size must be > 0, got " + batchSize);
        if (epochs == null && steps == null) throw new IllegalArgumentException("training: give epochs or steps");
        if (epochs != null && !(epochs > 0))
            throw new IllegalArgumentException("training.epochs must be > 0, got " + epochs);
        if (steps != null && steps <= 0) throw new IllegalArgumentException("training.steps must be > 0, got " + steps);
        if (microBatchSize == null) microBatchSize = Math.min(64, batchSize);
        if (microBatchSize <= 0)
            throw new IllegalArgumentException("training.micro_batch_size must be > 0, got " + microBatchSize);
        if (accumulation == null) accumulation = 1;
        if (accumulation <= 0)
            throw new IllegalArgumentException("training.accumulation must be > 0, got " + accumulation);
        if (evalEvery == null) evalEvery = 0;
        if (evalEvery < 0) throw new IllegalArgumentException("training.eval_every must be >= 0, got " + evalEvery);
        if (checkpointEvery == null) checkpointEvery = 0;
        if (checkpointEvery < 0)
            throw new IllegalArgumentException("training.checkpoint_every must be >= 0, got " + checkpointEvery);
        if (ema != null && !(ema > 0 && ema < 1))
            throw new IllegalArgumentException("training.ema must be in (0, 1), got " + ema);
        if (logEvery == null) logEvery = 10;
        if (logEvery <= 0) throw new IllegalArgumentException("training.log_every must be > 0, got " + logEvery);
    }

    /** Sampling rate q = B / N. */
    public double samplingRate(int datasetSize) {
        if (batchSize > datasetSize) {
            throw new IllegalArgumentException(
                    "training.batch_size " + batchSize + " exceeds the dataset size " + datasetSize);
        }
        return (double) batchSize / datasetSize;
    }

    /** Number of logical steps for a dataset of N examples. */
    public int totalSteps(int datasetSize) {
        if (steps != null) return steps;
        return (int) Math.ceil(epochs * datasetSize / batchSize);
    }

    /**
     * Runs {@code steps} logical steps of expected batch size {@code batchSize}, in micro-batches of {@code
     * microBatchSize} slots.
     */
    public static TrainingConfig of(int batchSize, int steps, int microBatchSize) {
        return new TrainingConfig(batchSize, null, steps, microBatchSize, null, null, null, null, null);
    }
}
