package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.SamplingMode;

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
        @JsonProperty("accountant") AccountantKind accountant,
        @JsonProperty("sampling") SamplingMode sampling,
        @JsonProperty("noise") NoiseMode noise,
        @JsonProperty("diagnostics") DiagnosticsMode diagnostics,
        @JsonProperty("clipping") ClippingMode clipping,
        @JsonProperty("per_layer") PerLayerClipping perLayer) {

    @JsonCreator
    public PrivacyConfig {
        if (enabled == null) enabled = true;
        // An unknown name never gets here: ConfigLoader refuses it while binding the enum, naming the valid ones.
        if (accountant == null) accountant = AccountantKind.RDP;
        if (sampling == null) sampling = SamplingMode.POISSON;
        if (noise == null) noise = NoiseMode.SECURE;
        if (diagnostics == null) diagnostics = DiagnosticsMode.NONE;
        if (clipping == null) clipping = ClippingMode.FLAT;
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
            if (clipping == ClippingMode.FLAT && perLayer != null) {
                throw new IllegalArgumentException(
                        "privacy.per_layer is set but privacy.clipping is flat; set clipping: per_layer or remove per_layer");
            }
            if (clipping == ClippingMode.PER_LAYER) {
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
            AccountantKind accountant,
            SamplingMode sampling,
            NoiseMode noise,
            DiagnosticsMode diagnostics) {
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
            AccountantKind accountant,
            SamplingMode sampling,
            NoiseMode noise) {
        this(enabled, clipNorm, noiseMultiplier, targetEpsilon, delta, accountant, sampling, noise, null, null, null);
    }

    /** True for {@code clipping: per_layer} (build the bounds with {@code ClipPolicies.from}). */
    public boolean perLayerClipping() {
        return clipping == ClippingMode.PER_LAYER;
    }

    /** DP with a fixed noise multiplier σ, clip norm C and δ; rdp accounting, Poisson sampling and secure noise. */
    public static PrivacyConfig withSigma(double clipNorm, double sigma, double delta) {
        return new PrivacyConfig(true, clipNorm, sigma, null, delta, null, null, null, (DiagnosticsMode) null);
    }

    /**
     * DP with σ calibrated before the run so that ε stays within {@code epsilon} at δ; the run stops when the budget is
     * spent.
     */
    public static PrivacyConfig withTarget(double clipNorm, double epsilon, double delta) {
        return new PrivacyConfig(true, clipNorm, null, epsilon, delta, null, null, null, (DiagnosticsMode) null);
    }

    /** No privacy: a non-private baseline; all other privacy settings are ignored. */
    public static PrivacyConfig disabled() {
        return new PrivacyConfig(false, null, null, null, null, null, null, null, (DiagnosticsMode) null);
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
    public PrivacyConfig withNoise(NoiseMode noiseMode) {
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
                split == null ? ClippingMode.FLAT : ClippingMode.PER_LAYER,
                split);
    }

    /** True when raw (non-private) training-set diagnostics may be written. */
    public boolean rawDiagnostics() {
        return diagnostics == DiagnosticsMode.RAW;
    }
}
