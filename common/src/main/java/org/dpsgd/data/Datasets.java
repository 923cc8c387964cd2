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

    /** Opens {@code split} of {@code cfg}'s data with synthetic seed 0, logging progress to stderr. */
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

    /**
     * Rank {@code rank}'s contiguous shard of the training set among {@code ranks} (see
     * {@link ShardDataset#range}), with train_limit applied first, so N is the whole run's. IDX (plain
     * and gzip) and CIFAR-10/100 read only the shard's byte range: N comes from the IDX header or the
     * CIFAR file sizes, and the rank holds ~N/ranks images. Other formats open the whole set and take
     * a view of it (imagefolder is memory-mapped, synthetic is generated per example).
     *
     * @param seed seeds the synthetic generator (ignored by real formats)
     */
    public static ShardDataset openShard(DataConfig cfg, long seed, int rank, int ranks, Consumer<String> log) {
        boolean idx = cfg.format().equals("idx");
        boolean cifar = cfg.format().equals("cifar10") || cfg.format().equals("cifar100");
        if (!idx && !cifar) return ShardDataset.forRank(open(cfg, Split.TRAIN, seed, log), rank, ranks);
        Path folder = Path.of(cfg.path());
        boolean cifar100 = cfg.format().equals("cifar100");
        int inFiles = idx ? IdxDataset.count(folder, true) : CifarDataset.count(folder, cifar100, true);
        Integer limit = cfg.trainLimit();
        String whole = idx ? IdxDataset.origin(folder, true) : CifarDataset.origin(folder, cifar100, true);
        if (limit != null && limit > inFiles) {
            log.accept("WARNING: data.train_limit=" + limit + " is above the " + inFiles + " examples of "
                    + whole + ": using all " + inFiles + " (the accountant's dataset size N is "
                    + inFiles + ")");
        }
        boolean limited = limit != null && limit < inFiles;
        int n = limited ? limit : inFiles;
        String source = limited ? whole + " (first " + n + ")" : whole;
        int[] r = ShardDataset.range(n, rank, ranks, source);
        Dataset held = idx
                ? IdxDataset.openRange(folder, true, r[0], r[1])
                : CifarDataset.openRange(folder, cifar100, true, r[0], r[1]);
        return ShardDataset.holding(held, r[0], n, source);
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
