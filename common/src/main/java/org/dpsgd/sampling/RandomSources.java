package org.dpsgd.sampling;

import java.util.function.Consumer;

/** Chooses the sampling randomness from the config's privacy.noise mode. */
public final class RandomSources {
    private RandomSources() {}

    /** "secure" → DRBG-keyed ChaCha20; "fast-insecure" → seeded, with a warning to {@code warn}. */
    public static RandomSource create(String mode, long seed, Consumer<String> warn) {
        return switch (mode) {
            case "secure" -> SecureRandomSource.create();
            case "fast-insecure" -> {
                warn.accept("WARNING: INSECURE SAMPLING: batches are drawn from a seeded generator (seed " + seed
                        + "); anyone with the seed knows every batch, so the reported ε does not hold; not for private data");
                yield new SeededRandomSource(seed);
            }
            default -> throw new IllegalArgumentException("sampling randomness mode must be 'secure' or 'fast-insecure', got '" + mode + "'");
        };
    }
}
