package org.dpsgd.audit;

import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.config.OptimizerKind;
import org.dpsgd.train.DpMechanism;

/**
 * Reads what a private step released along each canary's coordinate from the parameters before and
 * after it, and adds it to the canary's score. The parameters are the release (the model and every
 * iterate), so the audit sees the whole mechanism: sampling, the clipped sum, the noise, the
 * division by q·N and the optimizer, not what the code claims to have done.
 *
 * <p>It inverts torch-style SGD (momentum μ, Nesterov, weight decay wd): the step direction is
 * d_t = (θ_{t−1} − θ_t)/lr_t; without Nesterov d_t = μ·d_{t−1} + ĝ_t, with Nesterov
 * d_t = ĝ_t + μ·b_t where b_t = μ·b_{t−1} + ĝ_t; then ĝ_t = g_t + wd·θ_{t−1} and the noisy clipped
 * sum in units of C is g_t·q·N/C. Adam is refused: its update is not a linear function of the gradient.
 */
public final class CanaryObserver {
    private final int[] coordinates;
    private final CanaryScore score;
    private final double q;
    private final double sigma;
    private final double unitsOfC; // q·N / C
    private final double momentum;
    private final boolean nesterov;
    private final double weightDecay;
    private final double[] previous; // d_{t−1} (plain momentum) or b_{t−1} (Nesterov)
    private final double[] scores;
    private final double[] released; // g_t of the last step, in units of C
    private float[][] history; // g_t of every step, per canary, when the score needs them
    private long steps;

    /**
     * @param coordinates each canary's coordinate (flat, in Network.parameters() order)
     * @param mechanism the run's mechanism (q, σ, clip, q·N), from {@code DpSgdTrainer.mechanism()}
     * @param optimizer the run's optimizer settings, to invert the update
     * @param score how each released value adds to a canary's score
     */
    public CanaryObserver(int[] coordinates, DpMechanism mechanism, OptimizerConfig optimizer, CanaryScore score) {
        if (mechanism == null)
            throw new IllegalArgumentException("a privacy audit needs a private run (privacy.enabled: true)");
        if (optimizer.name() != OptimizerKind.SGD) {
            throw new IllegalArgumentException(
                    "the white-box audit reads the released gradient through the optimizer and supports optimizer.name: sgd; got "
                            + optimizer.name() + " (audit with sgd, or use --kind blackbox)");
        }
        this.coordinates = coordinates.clone();
        this.score = score;
        this.q = mechanism.samplingRate();
        this.sigma = mechanism.noiseMultiplier();
        this.unitsOfC = mechanism.expectedBatchSize() / mechanism.clip().sensitivity();
        this.momentum = optimizer.momentum();
        this.nesterov = optimizer.nesterov();
        this.weightDecay = optimizer.weightDecay() == null ? 0 : optimizer.weightDecay();
        this.previous = new double[coordinates.length];
        this.scores = new double[coordinates.length];
        this.released = new double[coordinates.length];
        this.history = score.needsHistory() ? new float[coordinates.length][64] : null;
    }

    /** Scores one step from the full parameter vectors before and after it and the step's learning rate. */
    public void observe(float[] before, float[] after, double lr) {
        if (!(lr > 0))
            throw new IllegalArgumentException("the white-box audit needs a learning rate > 0 at every step, got " + lr
                    + " at step " + (steps + 1));
        for (int k = 0; k < coordinates.length; k++) {
            int c = coordinates[k];
            double d = ((double) before[c] - after[c]) / lr;
            double gHat;
            if (nesterov) {
                gHat = (d - momentum * momentum * previous[k]) / (1 + momentum);
                previous[k] = momentum * previous[k] + gHat;
            } else {
                gHat = d - momentum * previous[k];
                previous[k] = d;
            }
            double g = (gHat - weightDecay * before[c]) * unitsOfC;
            released[k] = g;
            if (history != null) {
                if (steps == history[k].length) history[k] = java.util.Arrays.copyOf(history[k], 2 * history[k].length);
                history[k][(int) steps] = (float) g;
            } else {
                scores[k] += score.term(g, q, sigma);
            }
        }
        steps++;
    }

    /** The scores so far, one per canary (higher = more likely IN). */
    public double[] scores() {
        if (history != null) {
            return CanaryScore.observedScores(history, (int) steps, q);
        }
        return scores.clone();
    }

    /** The last step's released noisy clipped sum along each canary coordinate, in units of C. */
    public double[] lastReleased() {
        return released.clone();
    }

    /** Steps observed so far. */
    public long steps() {
        return steps;
    }
}
