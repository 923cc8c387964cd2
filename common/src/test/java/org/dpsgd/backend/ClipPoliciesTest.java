package org.dpsgd.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.config.PerLayerClipping;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** ClipPolicies.from: groups, splits, frozen tensors, errors; and why noise σ·sensitivity() is what per-layer clipping needs. */
class ClipPoliciesTest {
    // small-cnn: conv1.{weight,bias}, gn1.{weight,bias}, conv2.{weight,bias}, gn2.{weight,bias}, fc.{weight,bias}
    private static final Network NET = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x16x16"), 10);

    private static PrivacyConfig perLayer(double c, PerLayerClipping p) {
        return PrivacyConfig.withSigma(c, 1.0, 1e-5).withClipping(p);
    }

    @Test
    void flatConfigGivesTheFlatPolicy() {
        ClipPolicy p = ClipPolicies.from(PrivacyConfig.withSigma(0.7, 1.0, 1e-5), NET, List.of("conv1"));
        assertTrue(p.isFlat());
        assertEquals(0.7, p.sensitivity());
    }

    @Test
    void equalSplitPerTensor() {
        ClipPolicy p = ClipPolicies.from(perLayer(2.0, PerLayerClipping.of("equal", "tensor")), NET, List.of());
        assertEquals(10, p.groups());
        for (double c : p.thresholds()) assertEquals(2.0 / Math.sqrt(10), c, 1e-15);
        assertEquals(2.0, p.sensitivity(), 1e-14);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, p.groupOfParameter());
    }

    @Test
    void layerGroupsJoinWeightAndBiasAndSkipFrozenTensors() {
        List<String> frozen = List.of("conv1", "gn1");
        ClipPolicy p = ClipPolicies.from(perLayer(1.0, PerLayerClipping.of("equal", "layer")), NET, frozen);
        assertEquals(3, p.groups()); // conv2, gn2, fc
        assertEquals(
                List.of("conv2", "gn2", "fc"),
                ClipPolicies.groupNames(PerLayerClipping.of("equal", "layer"), NET, frozen));
        int[] g = p.groupOfParameter();
        List<ParamSpec> ps = NET.parameters();
        for (int i = 0; i < ps.size(); i++) {
            String n = ps.get(i).name();
            if (n.startsWith("conv2")) assertEquals(0, g[i], n);
            if (n.startsWith("gn2")) assertEquals(1, g[i], n);
            if (n.startsWith("fc")) assertEquals(2, g[i], n);
        }
        assertEquals(1.0, p.sensitivity(), 1e-15);
    }

    @Test
    void sqrtParamsSplitIsProportionalToSqrtSizeAndSumsToC() {
        ClipPolicy p = ClipPolicies.from(perLayer(3.0, PerLayerClipping.of("sqrt_params", "layer")), NET, List.of());
        List<ParamSpec> ps = NET.parameters();
        long[] sizes = new long[p.groups()];
        for (int i = 0; i < ps.size(); i++) sizes[p.groupOf(i)] += ps.get(i).size();
        double[] t = p.thresholds();
        for (int a = 0; a < t.length; a++) {
            for (int b = 0; b < t.length; b++)
                assertEquals(Math.sqrt((double) sizes[a] / sizes[b]), t[a] / t[b], 1e-12);
        }
        assertEquals(3.0, p.sensitivity(), 1e-14);
    }

    @Test
    void explicitThresholdsAreUsedAsGivenAndCounted() {
        List<Double> th = List.of(0.3, 0.4, 0.5, 0.1, 0.2);
        double total = Math.sqrt(0.09 + 0.16 + 0.25 + 0.01 + 0.04);
        ClipPolicy p = ClipPolicies.from(perLayer(total, PerLayerClipping.explicit(th, "layer")), NET, List.of());
        assertArrayEquals(new double[] {0.3, 0.4, 0.5, 0.1, 0.2}, p.thresholds());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ClipPolicies.from(perLayer(total, PerLayerClipping.explicit(th, "tensor")), NET, List.of()));
        assertTrue(e.getMessage().contains("has 5 values but small-cnn has 10 parameter groups"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void fromAnExperimentConfigUsesItsFreezeList() {
        String yaml = """
                name: t
                model: {name: small-cnn, freeze: [conv1]}
                data: {format: idx, path: /nowhere}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-5, clipping: per_layer, per_layer: {groups: layer}}
                training: {batch_size: 8, epochs: 1}
                optimizer: {name: sgd, lr: 0.1}
                """;
        ClipPolicy p = ClipPolicies.from(org.dpsgd.config.ConfigLoader.parse(yaml, "t.yaml"), NET);
        assertEquals(4, p.groups()); // gn1, conv2, gn2, fc
        assertEquals(1.0, p.sensitivity(), 1e-15);
    }

    @Test
    void everythingFrozenAndPrivacyOffAreErrors() {
        assertThrows(
                IllegalArgumentException.class,
                () -> ClipPolicies.from(perLayer(1, PerLayerClipping.DEFAULT), NET, List.of("conv", "gn", "fc")));
        assertThrows(IllegalStateException.class, () -> ClipPolicies.from(PrivacyConfig.disabled(), NET, List.of()));
    }

    /**
     * Property (seeded, 2,000 draws): whatever the per-group gradient norms (log-uniform over 12
     * decades) and thresholds, one example's per-layer clipped gradient has norm at most
     * sensitivity() = sqrt(Σ C_l²), and reaches it when every group is clipped: the bound is tight,
     * so noise σ·sensitivity() is exactly flat clipping's σ·C, neither less (unsafe) nor more.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void perLayerClippedNormNeverExceedsTheSensitivity(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int trial = 0; trial < 500; trial++) {
            int groups = 1 + r.nextInt(12);
            double[] th = new double[groups];
            for (int g = 0; g < groups; g++) th[g] = Math.pow(10, -3 + 6 * r.nextDouble());
            ClipPolicy p = new ClipPolicy(th, new int[0]);
            double sq = 0;
            boolean allClipped = true;
            for (int g = 0; g < groups; g++) {
                double norm = Math.pow(10, -6 + 12 * r.nextDouble());
                double clipped = norm * Math.min(1, th[g] / norm);
                sq += clipped * clipped;
                allClipped &= norm >= th[g];
            }
            double n = Math.sqrt(sq);
            assertTrue(n <= p.sensitivity() * (1 + 1e-15), n + " > " + p.sensitivity());
            if (allClipped) assertEquals(p.sensitivity(), n, 1e-14 * n);
        }
    }

    /**
     * Statistical check of the mechanism: a neighbouring pair differs by one example's clipped
     * gradient Δ (per-layer, worst case: every group at its bound). With noise drawn by the
     * project's noise source at std σ·sensitivity(), the privacy-loss variable
     * L = (‖Δ‖² + 2Δ·z)/(2s²) must have variance μ² with μ = ‖Δ‖/s = 1/σ: flat clipping's μ at the
     * same σ. A bug that scales noise by the largest C_l instead is caught (μ > 1/σ).
     */
    @Test
    void noiseScaledBySensitivityGivesFlatClippingsPrivacyLoss() {
        double sigma = 1.3;
        double[] th = {0.2, 0.05, 0.7, 0.4};
        int[] sizes = {30, 5, 60, 20};
        ClipPolicy p = new ClipPolicy(th, new int[0]);
        SplittableRandom r = new SplittableRandom(5);
        List<Double> delta = new ArrayList<>();
        for (int g = 0; g < th.length; g++) {
            double[] v = new double[sizes[g]];
            double n = 0;
            for (int k = 0; k < v.length; k++) {
                v[k] = r.nextDouble() - 0.5;
                n += v[k] * v[k];
            }
            for (double x : v) delta.add(x / Math.sqrt(n) * th[g]); // this group clipped to exactly C_l
        }
        NoiseSource noise = NoiseSources.create(NoiseMode.FAST_INSECURE, 11, w -> {});
        double std = sigma * p.sensitivity();
        int samples = 40_000;
        double sum = 0;
        double sumSq = 0;
        double d2 = 0;
        for (double x : delta) d2 += x * x;
        float[] z = new float[delta.size()];
        for (int s = 0; s < samples; s++) {
            java.util.Arrays.fill(z, 0f);
            noise.addGaussian(z, std);
            double dot = 0;
            for (int k = 0; k < z.length; k++) dot += delta.get(k) * z[k];
            double loss = (d2 + 2 * dot) / (2 * std * std);
            sum += loss;
            sumSq += loss * loss;
        }
        double mean = sum / samples;
        double var = sumSq / samples - mean * mean;
        double mu = 1 / sigma;
        assertEquals(mu * mu, var, 0.03 * mu * mu, "variance of the privacy loss");
        assertEquals(mu * mu / 2, mean, 5 * mu / Math.sqrt(samples), "mean of the privacy loss");
        // The tempting mistake, noise at the largest per-group bound, would give a larger μ:
        double wrongMu = Math.sqrt(d2) / (sigma * 0.7);
        assertTrue(wrongMu > 1.15 * mu);
    }
}
