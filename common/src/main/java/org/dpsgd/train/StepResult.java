package org.dpsgd.train;

import java.util.function.DoubleSupplier;
import org.dpsgd.backend.BatchStats;

/**
 * What one logical step did. ε is computed on first request (a PLD accountant can take tens of
 * milliseconds per conversion, so a loop that logs every k steps should not pay it every step);
 * read it before the trainer's next step, or pass the trainer an accountant factory so it can be
 * recomputed from the step's ledger later.
 */
public final class StepResult {
    private final long step;
    private final BatchStats stats;
    private DoubleSupplier epsilonSource;
    private double epsilon = Double.NaN;
    private final double lr;
    private final int batchSize;
    private final int deviceCalls;
    private final double seconds;

    /**
     * @param step 1-based index of the step just taken
     * @param stats loss/accuracy/clipping of the real samples (computed on private data: diagnostics only)
     * @param epsilon ε spent up to and including this step at the config's δ (+∞ when privacy is off)
     * @param lr learning rate used
     * @param batchSize realised logical batch size L (diagnostic; never used in the private update)
     * @param deviceCalls device calls the step needed
     * @param seconds wall time of the step
     */
    public StepResult(
            long step,
            BatchStats stats,
            DoubleSupplier epsilon,
            double lr,
            int batchSize,
            int deviceCalls,
            double seconds) {
        this.step = step;
        this.stats = stats;
        this.epsilonSource = epsilon;
        this.lr = lr;
        this.batchSize = batchSize;
        this.deviceCalls = deviceCalls;
        this.seconds = seconds;
    }

    /** 1-based index of this step. */
    public long step() {
        return step;
    }
    /** Loss, accuracy and clipping of the step's real samples: computed on private data, diagnostics only. */
    public BatchStats stats() {
        return stats;
    }
    /** Learning rate used by this step. */
    public double lr() {
        return lr;
    }
    /** Realised logical batch size L: a diagnostic, never used in the private update. */
    public int batchSize() {
        return batchSize;
    }
    /** Device calls this step needed. */
    public int deviceCalls() {
        return deviceCalls;
    }
    /** Wall time of this step, in seconds. */
    public double seconds() {
        return seconds;
    }

    /** ε spent up to and including this step (+∞ when privacy is off); computed once, on first call. */
    public synchronized double epsilon() {
        if (epsilonSource != null) {
            epsilon = epsilonSource.getAsDouble();
            epsilonSource = null;
        }
        return epsilon;
    }

    @Override
    public String toString() {
        return "StepResult[step=" + step + ", batchSize=" + batchSize + ", lr=" + lr + ", deviceCalls=" + deviceCalls
                + ", seconds=" + seconds + ", stats=" + stats + "]";
    }
}
