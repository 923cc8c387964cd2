package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Training-time augmentation. With {@code multiplicity} K > 1 every sampled example is augmented K
 * times and the K gradients are averaged before clipping (De et al.): still one example's
 * contribution, so the sensitivity and the accounting are unchanged.
 *
 * @param randomCrop pad by this many pixels and crop back at a random offset (0 = off)
 * @param flip random horizontal flip
 * @param multiplicity K >= 1
 */
public record AugmentationConfig(
        @JsonProperty("random_crop") Integer randomCrop,
        @JsonProperty("flip") Boolean flip,
        @JsonProperty("multiplicity") Integer multiplicity) {

    public static final AugmentationConfig NONE = new AugmentationConfig(0, false, 1);

    public AugmentationConfig {
        if (randomCrop == null) randomCrop = 0;
        if (flip == null) flip = false;
        if (multiplicity == null) multiplicity = 1;
        if (randomCrop < 0)
            throw new IllegalArgumentException("data.augmentation.random_crop must be >= 0, got " + randomCrop);
        if (multiplicity < 1)
            throw new IllegalArgumentException("data.augmentation.multiplicity must be >= 1, got " + multiplicity);
    }

    /** True when random crop or flip is on, i.e. training examples are transformed before clipping. */
    public boolean enabled() {
        return randomCrop > 0 || flip;
    }
}
