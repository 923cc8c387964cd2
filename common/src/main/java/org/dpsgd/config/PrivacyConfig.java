package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * DP settings. Give either {@code noiseMultiplier} (σ) or {@code targetEpsilon} (σ is then
 * calibrated before the run and the run stops when the budget is reached).
 *
 * @param enabled false trains without privacy (a baseline); everything else is then ignored
 * @param clipNorm C > 0, per-sample L2 clipping norm
 * @param noiseMultiplier σ > 0: noise std is σ·C per coordinate
 * @param targetEpsilon ε > 0 to calibrate σ for
 * @param delta δ in (0, 1)
 * @param accountant rdp or pld
 * @param sampling poisson (default; the only mode the accountant's ε holds for) or shuffle
 * @param noise secure (default: CSPRNG, hardened against floating-point attacks) or fast-insecure (seeded, for reproducible experiments only)
 * @param diagnostics none (default: nothing computed from the training data leaves the process except
 *                    through the DP mechanism) or raw (training-batch loss, accuracy, realised batch
 *                    size, clipped fraction and throughput are written, each marked "not covered by ε")
 * @param clipping flat (default: one bound C on each example's whole gradient) or per_layer (each
 *     parameter group clipped to its own C_l, with sqrt(Σ C_l²) = clip_norm; see {@link PerLayerClipping})
 * @param perLayer how per_layer splits clip_norm into per-group bounds; only with clipping: per_layer
 */
public record PrivacyConfig(
        @JsonProperty("enabled") Boolean enabled,
        @JsonProperty("clip_norm") Double clipNorm,
        @JsonProperty("noise_multiplier") Double noiseMultiplier,
        @JsonProperty("target_epsilon") Double targetEpsilon,
        @JsonProperty("delta") Double delta,
        @JsonProperty("accountant") String accountant,
        @JsonProperty("sampling") String sampling,
        @JsonProperty("noise") String noise,
        @JsonProperty("diagnostics") String diagnostics,
        @JsonProperty("clipping") String clipping,
        @JsonProperty("per_layer") PerLayerClipping perLayer) {

    /** Diagnostics policy: only DP releases leave the process. */
    public static final String DIAGNOSTICS_NONE = "none";
    /** Diagnostics policy: raw training-set statistics are written, marked as not covered by ε. */
    public static final String DIAGNOSTICS_RAW = "raw";

    @JsonCreator
    public PrivacyConfig {
        if (enabled == null) enabled = true;
        if (accountant == null) accountant = "rdp";
        if (sampling == null) sampling = "poisson";
        if (noise == null) noise = "secure";
        if (diagnostics == null) diagnostics = DIAGNOSTICS_NONE;
        if (clipping == null) clipping = "flat";
        if (!diagnostics.equals(DIAGNOSTICS_NONE) && !diagnostics.equals(DIAGNOSTICS_RAW)) {
            throw new IllegalArgumentException(
                    "privacy.diagnostics must be 'none' (only DP releases leave the process) or 'raw' "
                            + "(training-batch statistics, not covered by ε), got '" + diagnostics + "'");
        }
        if (enabled) {
            if (clipNorm == null) throw new IllegalArgumentException("privacy.clip_norm is required (e.g. 1.0)");
            if (!(clipNorm > 0) || Double.isInfinite(clipNorm))
                throw new IllegalArgumentException("privacy.clip_norm must be a finite number > 0, got " + clipNorm);
            if (noiseMultiplier == null && targetEpsilon == null) {
                throw new IllegalArgumentException(
                        "privacy: give noise_multiplier (σ) or target_epsilon (σ is then calibrated)");
            }
            if (noiseMultiplier != null && targetEpsilon != null) {
                throw new IllegalArgumentException("privacy: give noise_multiplier or target_epsilon, not both");
            }
            if (noiseMultiplier != null && (!(noiseMultiplier > 0) || Double.isInfinite(noiseMultiplier))) {
                throw new IllegalArgumentException(
                        "privacy.noise_multiplier must be a finite number > 0, got " + noiseMultiplier);
            }
            if (targetEpsilon != null && (!(targetEpsilon > 0) || Double.isInfinite(targetEpsilon))) {
                throw new IllegalArgumentException(
                        "privacy.target_epsilon must be a finite number > 0, got " + targetEpsilon);
            }
            if (delta == null)
                throw new IllegalArgumentException(
                        "privacy.delta is required (e.g. 1e-5; below 1/N for N training examples)");
            if (!(delta > 0 && delta < 1))
                throw new IllegalArgumentException("privacy.delta must be in (0, 1), got " + delta);
            if (!accountant.equals("rdp") && !accountant.equals("pld")) {
                throw new IllegalArgumentException(
                        "privacy.accountant must be 'rdp' or 'pld', got '" + accountant + "'");
            }
            if (!sampling.equals("poisson") && !sampling.equals("shuffle")) {
                throw new IllegalArgumentException(
                        "privacy.sampling must be 'poisson' or 'shuffle', got '" + sampling + "'");
            }
            if (!noise.equals("secure") && !noise.equals("fast-insecure")) {
                throw new IllegalArgumentException(
                        "privacy.noise must be 'secure' or 'fast-insecure', got '" + noise + "'");
            }
            if (!clipping.equals("flat") && !clipping.equals("per_layer")) {
                throw new IllegalArgumentException(
                        "privacy.clipping must be 'flat' or 'per_layer', got '" + clipping + "'");
            }
            if (clipping.equals("flat") && perLayer != null) {
                throw new IllegalArgumentException(
                        "privacy.per_layer is set but privacy.clipping is flat; set clipping: per_layer or remove per_layer");
            }
            if (clipping.equals("per_layer")) {
                if (perLayer == null) perLayer = PerLayerClipping.DEFAULT;
                perLayer.checkTotal(clipNorm);
            }
        }
    }

    /** Flat clipping, the fields before per-layer clipping existed. */
    public PrivacyConfig(
            Boolean enabled,
            Double clipNorm,
            Double noiseMultiplier,
            Double targetEpsilon,
            Double delta,
            String accountant,
            String sampling,
            String noise,
            String diagnostics) {
        this(
                enabled,
                clipNorm,
                noiseMultiplier,
                targetEpsilon,
                delta,
                accountant,
                sampling,
                noise,
                diagnostics,
                null,
                null);
    }

    /** Flat clipping, default diagnostics. */
    public PrivacyConfig(
            Boolean enabled,
            Double clipNorm,
            Double noiseMultiplier,
            Double targetEpsilon,
            Double delta,
            String accountant,
            String sampling,
            String noise) {
        this(enabled, clipNorm, noiseMultiplier, targetEpsilon, delta, accountant, sampling, noise, null, null, null);
    }

    /** True for {@code clipping: per_layer} (build the bounds with {@code ClipPolicies.from}). */
    public boolean perLayerClipping() {
        return "per_layer".equals(clipping);
    }

    /** DP with a fixed noise multiplier σ, clip norm C and δ; rdp accounting, Poisson sampling and secure noise. */
    public static PrivacyConfig withSigma(double clipNorm, double sigma, double delta) {
        return new PrivacyConfig(true, clipNorm, sigma, null, delta, null, null, null, null);
    }

    /**
     * DP with σ calibrated before the run so that ε stays within {@code epsilon} at δ; the run stops when the budget is
     * spent.
     */
    public static PrivacyConfig withTarget(double clipNorm, double epsilon, double delta) {
        return new PrivacyConfig(true, clipNorm, null, epsilon, delta, null, null, null, null);
    }

    /** No privacy: a non-private baseline; all other privacy settings are ignored. */
    public static PrivacyConfig disabled() {
        return new PrivacyConfig(false, null, null, null, null, null, null, null, null);
    }

    /** This config with noise multiplier σ = {@code sigma} and no target ε (ε then follows from σ and the steps run). */
    public PrivacyConfig withNoiseMultiplier(double sigma) {
        return new PrivacyConfig(
                enabled, clipNorm, sigma, null, delta, accountant, sampling, noise, diagnostics, clipping, perLayer);
    }

    /**
     * This config with noise mode {@code noiseMode}: secure (CSPRNG) or fast-insecure (seeded; not for private
     * releases).
     */
    public PrivacyConfig withNoise(String noiseMode) {
        return new PrivacyConfig(
                enabled,
                clipNorm,
                noiseMultiplier,
                targetEpsilon,
                delta,
                accountant,
                sampling,
                noiseMode,
                diagnostics,
                clipping,
                perLayer);
    }

    /** This config with per-layer clipping under {@code split} (a null split means flat clipping). */
    public PrivacyConfig withClipping(PerLayerClipping split) {
        return new PrivacyConfig(
                enabled,
                clipNorm,
                noiseMultiplier,
                targetEpsilon,
                delta,
                accountant,
                sampling,
                noise,
                diagnostics,
                split == null ? "flat" : "per_layer",
                split);
    }

    /** True when raw (non-private) training-set diagnostics may be written. */
    public boolean rawDiagnostics() {
        return DIAGNOSTICS_RAW.equals(diagnostics);
    }
}
