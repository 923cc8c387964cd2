package org.dpsgd.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.SamplingMode;

/** Settings that are valid but weaken or void the privacy claim; each warning says why. */
public final class ConfigWarnings {
    /**
     * Above this ε a guarantee says nothing: e^100 ≈ 2.7e43 bounds the ratio of any outcome's
     * probability with and without one example, which no attack needs to beat. (Published DP-SGD
     * results sit at ε ≤ 10; the issue that asked for this check named 100.)
     */
    public static final double MEANINGLESS_EPSILON = 100;

    private ConfigWarnings() {}

    /**
     * Whether {@code epsilon} is too large to be a privacy guarantee: above {@link #MEANINGLESS_EPSILON},
     * infinite (no privacy) or NaN. For run.json's flag and the warning below.
     */
    public static boolean meaninglessEpsilon(double epsilon) {
        return !(epsilon <= MEANINGLESS_EPSILON);
    }

    /** The loud warning for a run whose ε is meaningless, naming the fix. */
    public static String meaninglessEpsilonWarning(double epsilon, double delta) {
        return "WARNING: ε = " + String.format(Locale.ROOT, "%.3g", epsilon) + " at δ = " + delta + " is above "
                + (int) MEANINGLESS_EPSILON
                + ": it is no privacy guarantee at all (the noise is far too small for this many steps); raise privacy.noise_multiplier "
                + "or give privacy.target_epsilon (e.g. 8)";
    }

    /** Warnings for {@code config} trained on {@code datasetSize} examples (empty = nothing to say). */
    public static List<String> check(ExperimentConfig config, int datasetSize) {
        List<String> out = new ArrayList<>();
        PrivacyConfig p = config.privacy();
        if (!p.enabled()) {
            out.add("WARNING: privacy.enabled is false: this run is a non-private baseline with no DP guarantee");
            return out;
        }
        if (datasetSize > 0 && p.delta() >= 1.0 / datasetSize) {
            out.add("WARNING: privacy.delta=" + p.delta() + " is >= 1/N = " + (1.0 / datasetSize) + " for N="
                    + datasetSize
                    + " examples: a mechanism that publishes one random example outright meets that δ; use δ well below 1/N (e.g. "
                    + String.format("%.0e", Math.pow(10, Math.floor(Math.log10(1.0 / datasetSize)) - 1)) + ")");
        }
        plannedEpsilonWarning(config, datasetSize, out);
        if (p.sampling() == SamplingMode.SHUFFLE) {
            out.add(
                    "WARNING: privacy.sampling is shuffle: the accountant's ε assumes Poisson sampling and does NOT hold for this run");
        }
        if (p.noise() == NoiseMode.FAST_INSECURE) {
            out.add(
                    "WARNING: privacy.noise is fast-insecure: noise and batches are reproducible from the seed; the model has no privacy");
        }
        return out;
    }

    /**
     * Warns before training when the planned ε (RDP, which never understates it; computed in about
     * 10 ms) or the target ε is meaningless. PLD is not used here: it cannot represent the
     * tiny-σ cases this check exists for.
     */
    private static void plannedEpsilonWarning(ExperimentConfig config, int datasetSize, List<String> out) {
        PrivacyConfig p = config.privacy();
        if (p.targetEpsilon() != null) {
            if (meaninglessEpsilon(p.targetEpsilon())) out.add(meaninglessEpsilonWarning(p.targetEpsilon(), p.delta()));
            return;
        }
        TrainingConfig t = config.training();
        if (datasetSize <= 0 || t.batchSize() > datasetSize) return; // the trainer refuses these with its own message
        double eps = Accountants.epsilon(
                t.samplingRate(datasetSize),
                p.noiseMultiplier(),
                t.totalSteps(datasetSize),
                p.delta(),
                AccountantKind.RDP);
        if (meaninglessEpsilon(eps))
            out.add(meaninglessEpsilonWarning(eps, p.delta()) + " (planned ε over " + t.totalSteps(datasetSize)
                    + " steps)");
    }
}
