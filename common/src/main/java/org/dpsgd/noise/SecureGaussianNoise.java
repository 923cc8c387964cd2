package org.dpsgd.noise;

import org.apache.commons.rng.sampling.distribution.ZigguratSampler;
import org.dpsgd.sampling.AesCtrStream;
import org.dpsgd.sampling.SecureRandomSource;

/**
 * The default noise. Uniform bits come from AES-256-CTR (NIST CTR_DRBG's generator, run on the
 * CPU's AES instructions) keyed with 32 bytes from the JDK DRBG; chunk c of call t reads its own
 * stream (stream id = t·2^32 + c), so parallel chunks never share keystream.
 * Standard normals come from Commons RNG's modified ziggurat in double precision; each coordinate
 * gets (z1 + z2 + z3 + z4) / 2, which is N(0, 1), as Opacus' secure mode does following Holohan &
 * Braghin (2021): summing several normals smooths the floating-point artefacts of a single draw
 * that Mironov-style attacks exploit. The noise is added in double and rounded to float once.
 * The key has no accessor and is never serialised.
 *
 * <p>{@link #createWithPrefetch()} prepares the next draw on a background thread ({@link NoisePrefetcher}):
 * noise does not depend on the data, so it can be drawn while an accelerator computes gradients.
 */
public final class SecureGaussianNoise extends ChunkedGaussian {
    private final byte[] key;
    private final NoisePrefetcher prefetcher;

    private SecureGaussianNoise(byte[] key, boolean prefetch) {
        this.key = key;
        this.prefetcher = prefetch ? new NoisePrefetcher(this::draw) : null;
    }

    /** A fresh DRBG key; every draw is made on the caller's thread when it is asked for. */
    public static SecureGaussianNoise create() {
        return new SecureGaussianNoise(SecureRandomSource.freshKeyBytes(), false);
    }

    /** As {@link #create()}, but after each draw the next one of the same length and std is prepared in the background. */
    public static SecureGaussianNoise createWithPrefetch() {
        return new SecureGaussianNoise(SecureRandomSource.freshKeyBytes(), true);
    }

    /** Tests only: a known key, so that prefetched and direct draws can be compared bit for bit. */
    static SecureGaussianNoise withKey(byte[] key, boolean prefetch) {
        return new SecureGaussianNoise(key.clone(), prefetch);
    }

    @Override
    public void addGaussian(float[] v, int from, int to, double std) {
        if (prefetcher == null) {
            super.addGaussian(v, from, to, std);
            return;
        }
        checkArguments(v, from, to, std);
        int n = to - from;
        double[] noise = prefetcher.take(n, std);
        for (int i = from; i < to; i++) v[i] = (float) (v[i] + noise[i - from]);
        prefetcher.prepare(n, std, noise);
    }

    @Override
    public void awaitPrefetch() {
        if (prefetcher != null) prefetcher.settle();
    }

    /** A whole draw of n coordinates with a fresh call index, kept in double (rounded once, when added). */
    private double[] draw(int n, double std, double[] out) {
        long call = nextCall();
        checkCall(call);
        forEachChunk(n, (c, lo, hi) -> {
            ZigguratSampler.NormalizedGaussian g = sampler(call, c);
            double scale = 0.5 * std;
            for (int i = lo; i < hi; i++) out[i] = scale * (g.sample() + g.sample() + g.sample() + g.sample());
        });
        return out;
    }

    @Override
    void fillChunk(float[] v, int from, int to, double std, long call, int chunk) {
        checkCall(call);
        ZigguratSampler.NormalizedGaussian g = sampler(call, chunk);
        double scale = 0.5 * std;
        for (int i = from; i < to; i++) v[i] = (float) (v[i] + scale * (g.sample() + g.sample() + g.sample() + g.sample()));
    }

    private ZigguratSampler.NormalizedGaussian sampler(long call, int chunk) {
        return ZigguratSampler.NormalizedGaussian.of(new AesCtrStream(key, call << 32 | chunk));
    }

    private static void checkCall(long call) {
        if (call >= (1L << 32)) throw new IllegalStateException("more than 2^32 noise calls under one key");
    }

    @Override public boolean isSecure() { return true; }

    @Override public Long exportState() { return null; }

    @Override
    public void restoreState(long calls) {
        throw new IllegalStateException("secure noise has no restorable state: a resumed run re-keys from the DRBG");
    }

    @Override public String mode() { return "secure"; }
}
