package org.dpsgd.model;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic initial parameters, the same on every backend for a given seed, so runs on
 * different hardware start from identical weights. Conv and linear weights: Kaiming-uniform as in
 * PyTorch's default (bound = 1/sqrt(fan_in) times sqrt(3)·gain with a=sqrt(5), i.e. 1/sqrt(fan_in));
 * biases likewise; GroupNorm weight 1, bias 0. Initial weights are public (data-independent), so a
 * fast seeded generator is fine here.
 */
public final class Initializer {
    private Initializer() {}

    /**
     * The initial flat parameter vector of {@code net} ({@link Network#parameters()} order) for {@code seed}: identical
     * on every backend and machine for the same network and seed.
     */
    public static float[] initialize(Network net, long seed) {
        List<ParamSpec> ps = net.parameters();
        float[] out = new float[Math.toIntExact(net.parameterCount())];
        int[] off = net.parameterOffsets();
        for (int i = 0; i < ps.size(); i++) {
            ParamSpec p = ps.get(i);
            SplittableRandom rng =
                    new SplittableRandom(seed * 0x9E3779B97F4A7C15L + p.name().hashCode());
            int o = off[i];
            switch (p.kind()) {
                case CONV_WEIGHT, LINEAR_WEIGHT, BIAS -> {
                    double bound = 1.0 / Math.sqrt(p.fanIn());
                    for (int k = 0; k < p.size(); k++) out[o + k] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
                case NORM_WEIGHT -> java.util.Arrays.fill(out, o, o + p.size(), 1f);
                case NORM_BIAS -> java.util.Arrays.fill(out, o, o + p.size(), 0f);
            }
        }
        return out;
    }
}
