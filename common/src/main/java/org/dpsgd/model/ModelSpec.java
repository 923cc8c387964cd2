package org.dpsgd.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What the config file says about the model. {@link ModelZoo#build} turns it into a {@link Network}
 * once the data's input shape and class count are known.
 *
 * @param name one of {@link ModelZoo#NAMES}
 * @param stem "imagenet" (7x7/2 conv + 3x3/2 max-pool, torchvision) or "cifar" (3x3/1 conv, no pool); ResNets only
 * @param norm "group" (the default); "batch" is refused with the reason
 * @param groups GroupNorm groups; 0 means the model's default (min(32, channels) for ResNets, 16 for WRN)
 * @param weightStandardization standardise conv weights per output channel
 * @param pretrained a safetensors file of initial parameters (public pretraining, Kurakin et al.'s
 *                   transfer recipe); names follow torchvision/timm; null = {@link Initializer}
 * @param freeze parameter-name prefixes to freeze (e.g. conv1, bn1, layer1): not trained, not clipped, no noise
 * @param reinitHead re-initialise the classifier head (the last layer: fc, or fc2 in fmnist-cnn) instead of loading it (e.g. another class count)
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record ModelSpec(
        @JsonProperty("name") String name,
        @JsonProperty("stem") String stem,
        @JsonProperty("norm") String norm,
        @JsonProperty("groups") Integer groups,
        @JsonProperty("weight_standardization") Boolean weightStandardization,
        @JsonProperty("pretrained") String pretrained,
        @JsonProperty("freeze") List<String> freeze,
        @JsonProperty("reinit_head") Boolean reinitHead) {

    public ModelSpec {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("model.name is required; one of " + ModelZoo.NAMES);
        }
        if (!ModelZoo.NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown model '" + name + "'; choose one of " + ModelZoo.NAMES);
        }
        if (stem == null) stem = "imagenet";
        if (!stem.equals("imagenet") && !stem.equals("cifar")) {
            throw new IllegalArgumentException("model.stem must be 'imagenet' or 'cifar', got '" + stem + "'");
        }
        if (norm == null) norm = "group";
        if (norm.equalsIgnoreCase("batch") || norm.equalsIgnoreCase("batchnorm")) {
            throw new IllegalArgumentException("model.norm: BatchNorm is refused: it mixes the samples of a batch, "
                    + "so a per-sample gradient depends on other samples and the DP guarantee no longer holds. "
                    + "Use norm: group (GroupNorm).");
        }
        if (!norm.equals("group")) {
            throw new IllegalArgumentException("model.norm must be 'group', got '" + norm + "'");
        }
        if (groups == null) groups = 0;
        if (groups < 0)
            throw new IllegalArgumentException("model.groups must be >= 0 (0 = model default), got " + groups);
        if (weightStandardization == null) weightStandardization = false;
        freeze = freeze == null ? List.of() : List.copyOf(freeze);
        for (String f : freeze) {
            if (f == null || f.isBlank())
                throw new IllegalArgumentException(
                        "model.freeze entries must be non-empty parameter-name prefixes (e.g. conv1, layer1)");
        }
        if (reinitHead == null) reinitHead = false;
        if (pretrained != null && pretrained.isBlank()) pretrained = null;
    }

    /** Architecture only (no transfer-learning options). */
    public ModelSpec(String name, String stem, String norm, Integer groups, Boolean weightStandardization) {
        this(name, stem, norm, groups, weightStandardization, null, null, null);
    }

    /** Model {@code name} (one of {@link ModelZoo#NAMES}) with every other option at its default. */
    public static ModelSpec of(String name) {
        return new ModelSpec(name, null, null, null, null);
    }

    /** This spec with stem {@code s} ("imagenet" or "cifar"), everything else kept. */
    public ModelSpec withStem(String s) {
        return new ModelSpec(name, s, norm, groups, weightStandardization, pretrained, freeze, reinitHead);
    }
}
