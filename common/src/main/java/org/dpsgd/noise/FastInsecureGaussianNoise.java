package org.dpsgd.noise;

import org.apache.commons.rng.sampling.distribution.ZigguratSampler;

/**
 * Seeded, reproducible noise for experiments on public data only: anyone who knows the seed can
 * regenerate and subtract the noise, so a model trained with it has NO privacy. One ziggurat
 * normal per coordinate from a XoRoShiRo128++ generator seeded by (seed, call, chunk).
 * Create it through {@link NoiseSources#create}, which logs the warning.
 */
public final class FastInsecureGaussianNoise extends ChunkedGaussian {
    private final long seed;

    FastInsecureGaussianNoise(long seed) {
        this(seed, NoisePool.allCores());
    }

    FastInsecureGaussianNoise(long seed, NoisePool pool) {
        super(pool);
        this.seed = seed;
    }

    @Override
    void fillChunk(float[] v, int from, int to, double std, long call, int chunk) {
        ZigguratSampler.NormalizedGaussian g = normals(call, chunk);
        for (int i = from; i < to; i++) v[i] = (float) (v[i] + std * g.sample());
    }

    @Override
    void fillChunk(double[] v, int from, int to, double std, long call, int chunk) {
        ZigguratSampler.NormalizedGaussian g = normals(call, chunk);
        for (int i = from; i < to; i++) v[i] = v[i] + std * g.sample();
    }

    @Override
    void fillChunk(double[] sum, int d, float[] out, int from, int to, double std, long call, int chunk) {
        ZigguratSampler.NormalizedGaussian g = normals(call, chunk);
        for (int i = from; i < to; i++) out[i] = (float) (sum[i + d] + std * g.sample());
    }

    private ZigguratSampler.NormalizedGaussian normals(long call, int chunk) {
        long s = mix(mix(seed ^ 0x5DEECE66DL, call), chunk);
        return ZigguratSampler.NormalizedGaussian.of(
                org.apache.commons.rng.simple.RandomSource.XO_RO_SHI_RO_128_PP.create(s));
    }

    private static long mix(long h, long x) {
        long z = h ^ (x * 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public boolean isSecure() {
        return false;
    }

    @Override
    public Long exportState() {
        return calls();
    }

    @Override
    public void restoreState(long calls) {
        if (calls < 0) throw new IllegalArgumentException("noise call count must be >= 0, got " + calls);
        setCalls(calls);
    }

    @Override
    public String mode() {
        return "fast-insecure";
    }
}
