package org.dpsgd.sampling;

/**
 * Where the sampling randomness comes from. Amplification by subsampling assumes the adversary
 * cannot predict which examples a step used, so the default is {@link SecureRandomSource} (a CSPRNG);
 * {@link SeededRandomSource} is reproducible and therefore only for labelled fast-insecure runs.
 */
public interface RandomSource {
    /** 64 uniformly random bits. */
    long nextLong();

    /** Uniform in [0, 1) with 53 random bits. */
    default double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [0, bound), unbiased (rejection of the incomplete top range). */
    default int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be > 0, got " + bound);
        long limit = (1L << 32) - ((1L << 32) % bound);
        while (true) {
            long r = nextLong() >>> 32;
            if (r < limit) return (int) (r % bound);
        }
    }

    /** True when the stream cannot be predicted from anything written down (config, logs, checkpoints). */
    boolean isSecure();

    /**
     * The state a resumed run needs to continue the same stream, or null for a secure source: its
     * key must never be written anywhere (a resumed secure run re-keys instead).
     */
    byte[] exportState();

    /** Continues from {@link #exportState()}'s output. Secure sources refuse. */
    void restoreState(byte[] state);
}
