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
 */
public final class SecureGaussianNoise extends ChunkedGaussian {
    private final byte[] key;

    private SecureGaussianNoise(byte[] key) {
        this.key = key;
    }

    public static SecureGaussianNoise create() {
        return new SecureGaussianNoise(SecureRandomSource.freshKeyBytes());
    }

    @Override
    void fillChunk(float[] v, int from, int to, double std, long call, int chunk) {
        if (call >= (1L << 32)) throw new IllegalStateException("more than 2^32 noise calls under one key");
        ZigguratSampler.NormalizedGaussian g = ZigguratSampler.NormalizedGaussian.of(new AesCtrStream(key, call << 32 | chunk));
        double scale = 0.5 * std;
        for (int i = from; i < to; i++) {
            double z = g.sample() + g.sample() + g.sample() + g.sample();
            v[i] = (float) (v[i] + scale * z);
        }
    }

    @Override public boolean isSecure() { return true; }

    @Override public Long exportState() { return null; }

    @Override
    public void restoreState(long calls) {
        throw new IllegalStateException("secure noise has no restorable state: a resumed run re-keys from the DRBG");
    }

    @Override public String mode() { return "secure"; }
}
