package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.dpsgd.model.ModelSpec;

/**
 * One experiment, as one YAML/JSON file. The same file runs unchanged on every backend: backend
 * choice and device are the only keys a command line may override. Unknown keys are rejected by
 * {@link ConfigLoader}.
 */
public record ExperimentConfig(
        @JsonProperty("name") String name,
        @JsonProperty("seed") Long seed,
        @JsonProperty("model") ModelSpec model,
        @JsonProperty("data") DataConfig data,
        @JsonProperty("privacy") PrivacyConfig privacy,
        @JsonProperty("training") TrainingConfig training,
        @JsonProperty("optimizer") OptimizerConfig optimizer,
        @JsonProperty("backend") BackendConfig backend,
        @JsonProperty("audit") AuditConfig audit) { // optional: null = no audit section

    public ExperimentConfig {
        if (name == null || name.isBlank()) name = "experiment";
        if (seed == null) seed = 0L;
        if (model == null)
            throw new IllegalArgumentException("model: section is required (e.g. model: {name: small-cnn})");
        if (data == null)
            throw new IllegalArgumentException(
                    "data: section is required (e.g. data: {format: idx, path: /usr/share/datasets/fashion-mnist})");
        if (privacy == null)
            throw new IllegalArgumentException(
                    "privacy: section is required (clip_norm, noise_multiplier or target_epsilon, delta)");
        if (training == null)
            throw new IllegalArgumentException("training: section is required (batch_size, epochs or steps)");
        if (optimizer == null) optimizer = OptimizerConfig.sgd(0.1);
        if (backend == null) backend = BackendConfig.auto();
    }

    /** This config with backend settings {@code b}. */
    public ExperimentConfig withBackend(BackendConfig b) {
        return new ExperimentConfig(name, seed, model, data, privacy, training, optimizer, b, audit);
    }

    /** This config with privacy settings {@code p} (clip norm, σ or target ε, δ, noise mode). */
    public ExperimentConfig withPrivacy(PrivacyConfig p) {
        return new ExperimentConfig(name, seed, model, data, p, training, optimizer, backend, audit);
    }

    /** This config with training settings {@code t} (batch size, steps, micro-batching). */
    public ExperimentConfig withTraining(TrainingConfig t) {
        return new ExperimentConfig(name, seed, model, data, privacy, t, optimizer, backend, audit);
    }

    /** This config with data settings {@code d}. */
    public ExperimentConfig withData(DataConfig d) {
        return new ExperimentConfig(name, seed, model, d, privacy, training, optimizer, backend, audit);
    }
}
