package org.dpsgd.data;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.dpsgd.config.DataConfig;
import org.dpsgd.model.Shape;

/** Opens the dataset a {@link DataConfig} names, for one split, with train_limit / test_limit applied. */
public final class Datasets {
    /** Synthetic data without a path: 1x28x28, 10 classes. */
    public static final String DEFAULT_SYNTHETIC = "1x28x28/10";

    public static final int SYNTHETIC_TRAIN_SIZE = 10_000;
    public static final int SYNTHETIC_TEST_SIZE = 2_000;

    private Datasets() {}

    public static Dataset open(DataConfig cfg, Split split) {
        return open(cfg, split, 0L, msg -> System.err.println(msg));
    }

    /**
     * @param seed seeds the synthetic generator (ignored by real formats)
     * @param log where progress notes go (e.g. "packing N images")
     */
    public static Dataset open(DataConfig cfg, Split split, long seed, Consumer<String> log) {
        boolean train = split == Split.TRAIN;
        Integer limit = train ? cfg.trainLimit() : cfg.testLimit();
        if (limit != null && limit == 0) {
            throw new IllegalArgumentException("data.test_limit is 0: there is no test set to open");
        }
        Dataset d = switch (cfg.format()) {
            case "idx" -> IdxDataset.open(Path.of(cfg.path()), train);
            case "cifar10" -> CifarDataset.open(Path.of(cfg.path()), false, train);
            case "cifar100" -> CifarDataset.open(Path.of(cfg.path()), true, train);
            case "imagefolder" ->
                ImageFolderDataset.open(
                        Path.of(cfg.path()), split, cfg.imageSize(), cacheDir(cfg), cfg.loaderThreads(), log);
            case "synthetic" -> synthetic(cfg, split, seed);
            default -> throw new IllegalArgumentException("data.format '" + cfg.format() + "' is not supported");
        };
        if (limit != null && limit > d.size()) {
            // Not an error (a config may serve several datasets), but N is what the accountant sees: say which N.
            log.accept("WARNING: data." + (train ? "train" : "test") + "_limit=" + limit + " is above the " + d.size()
                    + " examples of " + d.describe() + ": using all " + d.size()
                    + (train ? " (the accountant's dataset size N is " + d.size() + ")" : ""));
        }
        return limit == null || limit >= d.size() ? d : new SubsetDataset(d, limit);
    }

    /** Whether the config has a test split to evaluate on (test_limit 0 switches it off). */
    public static boolean hasTest(DataConfig cfg) {
        return cfg.testLimit() == null || cfg.testLimit() > 0;
    }

    static Path cacheDir(DataConfig cfg) {
        if (cfg.cacheDir() != null) return Path.of(cfg.cacheDir());
        return Path.of(System.getProperty("user.home"), ".cache", "dpsgd", "shards");
    }

    /** Parses CxHxW with the product checked before {@link Shape} (whose int size() would overflow). */
    private static Shape syntheticShape(String text, String spec) {
        String[] d = text.trim().toLowerCase(java.util.Locale.ROOT).split("x");
        if (d.length == 3) {
            try {
                ExampleSize.elements(
                        "synthetic data.path " + spec,
                        Long.parseLong(d[0].trim()),
                        Long.parseLong(d[1].trim()),
                        Long.parseLong(d[2].trim()));
            } catch (NumberFormatException e) {
                // Shape.parse names the format below
            }
        }
        return Shape.parse(text);
    }

    /** data.path for synthetic is "CxHxW/classes" (e.g. "3x32x32/10"); sizes come from the limits. */
    static Dataset synthetic(DataConfig cfg, Split split, long seed) {
        String spec = cfg.path() == null ? DEFAULT_SYNTHETIC : cfg.path();
        String[] p = spec.split("/");
        if (p.length != 2)
            throw new IllegalArgumentException(
                    "synthetic data.path must be CxHxW/classes (e.g. 3x32x32/10), got '" + spec + "'");
        Shape shape = syntheticShape(p[0], spec);
        int classes;
        try {
            classes = Integer.parseInt(p[1].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "synthetic data.path must be CxHxW/classes (e.g. 3x32x32/10), got '" + spec + "'", e);
        }
        boolean train = split == Split.TRAIN;
        Integer limit = train ? cfg.trainLimit() : cfg.testLimit();
        int size = limit != null ? limit : train ? SYNTHETIC_TRAIN_SIZE : SYNTHETIC_TEST_SIZE;
        // One float prototype per class is held in memory.
        ExampleSize.requireHeap(
                "synthetic data.path " + spec + " (" + classes + " class prototypes of " + shape + ")",
                4.0 * shape.size() * classes,
                "use a smaller shape or fewer classes");
        return new SyntheticDataset(seed, train ? 0 : 1, size, shape, classes, 1.0);
    }
}
