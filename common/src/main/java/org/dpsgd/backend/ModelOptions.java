package org.dpsgd.backend;

import java.util.List;
import java.util.Map;

/**
 * Per-model options.
 *
 * @param strategy per-sample clipping strategy name ("auto", "microbatch", "bookkeeping", ...), backend-specific
 * @param layout micro-batch size, accumulation and replicas of one device call
 * @param frozenPrefixes parameters whose names start with one of these are frozen: no gradient, not clipped, not updated
 * @param settings further backend-specific settings
 */
public record ModelOptions(
        String strategy, BatchLayout layout, List<String> frozenPrefixes, Map<String, String> settings) {
    public ModelOptions {
        strategy = strategy == null ? "auto" : strategy;
        frozenPrefixes = frozenPrefixes == null ? List.of() : List.copyOf(frozenPrefixes);
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    /** True when {@code parameterName} starts with one of {@link #frozenPrefixes()}: no gradient, not clipped, not updated. */
    public boolean isFrozen(String parameterName) {
        for (String p : frozenPrefixes) if (parameterName.startsWith(p)) return true;
        return false;
    }
}
