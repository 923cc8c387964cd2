package org.dpsgd.config;

import java.util.ArrayList;
import java.util.List;

/** Settings that are valid but weaken or void the privacy claim; each warning says why. */
public final class ConfigWarnings {
    private ConfigWarnings() {}

    /** Warnings for {@code config} trained on {@code datasetSize} examples (empty = nothing to say). */
    public static List<String> check(ExperimentConfig config, int datasetSize) {
        List<String> out = new ArrayList<>();
        PrivacyConfig p = config.privacy();
        if (!p.enabled()) {
            out.add("WARNING: privacy.enabled is false: this run is a non-private baseline with no DP guarantee");
            return out;
        }
        if (datasetSize > 0 && p.delta() >= 1.0 / datasetSize) {
            out.add("WARNING: privacy.delta=" + p.delta() + " is >= 1/N = " + (1.0 / datasetSize) + " for N=" + datasetSize
                    + " examples: a mechanism that publishes one random example outright meets that δ; use δ well below 1/N (e.g. "
                    + String.format("%.0e", Math.pow(10, Math.floor(Math.log10(1.0 / datasetSize)) - 1)) + ")");
        }
        if (p.sampling().equals("shuffle")) {
            out.add("WARNING: privacy.sampling is shuffle: the accountant's ε assumes Poisson sampling and does NOT hold for this run");
        }
        if (p.noise().equals("fast-insecure")) {
            out.add("WARNING: privacy.noise is fast-insecure: noise and batches are reproducible from the seed; the model has no privacy");
        }
        return out;
    }
}
