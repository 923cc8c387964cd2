package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Where the data is and how it is read.
 *
 * @param format idx (MNIST/Fashion-MNIST), cifar10, cifar100, imagefolder, synthetic
 * @param path folder or file; for idx the default is /usr/share/datasets/fashion-mnist
 * @param trainLimit use only the first N training examples (N is then the dataset size for accounting); null = all
 * @param testLimit evaluate on the first N test examples; null = all
 * @param imageSize resize target for imagefolder (square), e.g. 224
 * @param augmentation random crop / flip / multiplicity
 * @param cacheDir where pre-packed shards are kept (imagefolder); null = next to the run
 */
public record DataConfig(
        @JsonProperty("format") String format,
        @JsonProperty("path") String path,
        @JsonProperty("train_limit") Integer trainLimit,
        @JsonProperty("test_limit") Integer testLimit,
        @JsonProperty("image_size") Integer imageSize,
        @JsonProperty("augmentation") AugmentationConfig augmentation,
        @JsonProperty("cache_dir") String cacheDir,
        @JsonProperty("loader_threads") Integer loaderThreads) {

    public static final List<String> FORMATS = List.of("idx", "cifar10", "cifar100", "imagefolder", "synthetic");
    public static final String DEFAULT_IDX_PATH = "/usr/share/datasets/fashion-mnist";
    /** The largest square RGB image whose 3·s² values fit one Java array (2^31 - 9 elements). */
    public static final int MAX_IMAGE_SIZE = 26_754;

    public DataConfig {
        if (format == null) throw new IllegalArgumentException("data.format is required; one of " + FORMATS);
        if (!FORMATS.contains(format))
            throw new IllegalArgumentException("data.format '" + format + "' is not one of " + FORMATS);
        if (path == null && format.equals("idx")) path = DEFAULT_IDX_PATH;
        if (path == null && !format.equals("synthetic"))
            throw new IllegalArgumentException("data.path is required for format " + format);
        if (trainLimit != null && trainLimit <= 0)
            throw new IllegalArgumentException("data.train_limit must be > 0, got " + trainLimit);
        if (testLimit != null && testLimit < 0)
            throw new IllegalArgumentException("data.test_limit must be >= 0, got " + testLimit);
        if (imageSize == null) imageSize = 224;
        if (imageSize <= 0) throw new IllegalArgumentException("data.image_size must be > 0, got " + imageSize);
        if (imageSize > MAX_IMAGE_SIZE) {
            throw new IllegalArgumentException("data.image_size=" + imageSize + " makes one 3x" + imageSize + "x"
                    + imageSize + " image more values than a Java array holds; use at most " + MAX_IMAGE_SIZE
                    + " (224 is ImageNet's usual size)");
        }
        if (augmentation == null) augmentation = AugmentationConfig.NONE;
        if (loaderThreads == null)
            loaderThreads = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
        if (loaderThreads <= 0)
            throw new IllegalArgumentException("data.loader_threads must be > 0, got " + loaderThreads);
    }

    /**
     * Reads {@code format} from {@code path} with all other settings at their defaults (no limits, no augmentation).
     */
    public static DataConfig of(String format, String path) {
        return new DataConfig(format, path, null, null, null, null, null, null);
    }

    /**
     * This config using only the first {@code train} / {@code test} examples (null = all); the train limit is the N the
     * accountant uses.
     */
    public DataConfig withLimits(Integer train, Integer test) {
        return new DataConfig(format, path, train, test, imageSize, augmentation, cacheDir, loaderThreads);
    }
}
