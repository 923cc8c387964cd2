package org.dpsgd.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.dpsgd.UserError;
import org.dpsgd.model.Shape;

/**
 * An ImageNet-style folder: {@code train/<class>/*.JPEG|jpg|png} and {@code val/<class>/...}
 * (classes sorted by name; the train split's classes define the labels). Images are decoded once,
 * in parallel, resized so the shorter side is {@code imageSize} (bilinear), centre-cropped to
 * {@code imageSize}², converted to RGB and packed into a {@link ShardedDataset} that later runs
 * memory-map. Pixels are normalised with ImageNet's mean/std.
 */
public final class ImageFolderDataset {
    private static final int BLOCK = 256;

    private ImageFolderDataset() {}

    /** Opens the split's shard in {@code cacheDir}, packing it first when missing or stale. */
    public static ShardedDataset open(
            Path root, Split split, int imageSize, Path cacheDir, int threads, Consumer<String> log) {
        List<String> classes = classes(root.resolve("train"));
        Path dir = root.resolve(split == Split.TRAIN ? "train" : "val");
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        list(dir, classes, files, labels);
        long fingerprint = fingerprint(root, files, imageSize);
        Path shard = cacheDir.resolve(String.format(
                Locale.ROOT,
                "%s-%s-%d-%016x.shard",
                root.toAbsolutePath().normalize().getFileName(),
                split.name().toLowerCase(Locale.ROOT),
                imageSize,
                fingerprint));
        ShardedDataset.Header existing = Files.isRegularFile(shard) ? ShardedDataset.peekHeader(shard) : null;
        if (existing == null || existing.fingerprint() != fingerprint) {
            requireDecodeMemory(imageSize, threads, files.size());
            log.accept("packing " + files.size() + " images of " + dir + " into " + shard
                    + " (once; later runs memory-map it)");
            pack(files, labels, classes, imageSize, fingerprint, shard, threads);
        }
        return ShardedDataset.open(shard);
    }

    /**
     * Decoding holds, per thread, the size² ARGB canvas, its int[] copy and the 3·size² bytes;
     * a block of {@link #BLOCK} decoded images waits for the writer. Checked before any decoding.
     */
    static void requireDecodeMemory(int imageSize, int threads, int images) {
        double plane = (double) imageSize * imageSize;
        double bytes = Math.max(1, threads) * 11 * plane + Math.min(BLOCK, images) * 3 * plane;
        ExampleSize.requireHeap(
                "data.image_size=" + imageSize + " (decoding on " + threads + " threads)",
                bytes,
                "use a smaller data.image_size (224 is ImageNet's usual size), fewer data.loader_threads, or a larger heap (-Xmx)");
    }

    static List<String> classes(Path trainDir) {
        if (!Files.isDirectory(trainDir)) {
            throw new IllegalArgumentException("image folder " + trainDir
                    + " does not exist (expected train/<class>/*.jpg and val/<class>/*.jpg under data.path)");
        }
        try (Stream<Path> s = Files.list(trainDir)) {
            List<String> out = s.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .toList();
            if (out.isEmpty())
                throw new IllegalArgumentException(trainDir + " has no class folders (expected train/<class>/*.jpg)");
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + trainDir + ": " + e.getMessage(), e);
        }
    }

    private static void list(Path dir, List<String> classes, List<Path> files, List<Integer> labels) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("image folder " + dir + " does not exist");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path classDir : s.filter(Files::isDirectory).sorted().toList()) {
                int label = classes.indexOf(classDir.getFileName().toString());
                if (label < 0) {
                    throw new IllegalArgumentException(
                            classDir + ": class '" + classDir.getFileName() + "' does not exist in the train split");
                }
                try (Stream<Path> imgs = Files.list(classDir)) {
                    for (Path f :
                            imgs.filter(ImageFolderDataset::isImage).sorted().toList()) {
                        files.add(f);
                        labels.add(label);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (files.isEmpty())
            throw new IllegalArgumentException(dir + " holds no .jpg/.jpeg/.png images in class folders");
    }

    static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".jpeg") || n.endsWith(".jpg") || n.endsWith(".png"));
    }

    private static long fingerprint(Path root, List<Path> files, int imageSize) {
        long h = 0x243F6A8885A308D3L ^ imageSize ^ ((long) ShardedDataset.VERSION << 40);
        try {
            for (Path f : files) {
                h = SyntheticDataset.mix(h ^ root.relativize(f).toString().hashCode());
                h = SyntheticDataset.mix(h ^ Files.size(f));
                h = SyntheticDataset.mix(h ^ Files.getLastModifiedTime(f).toMillis());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat images under " + root + ": " + e.getMessage(), e);
        }
        return h;
    }

    private static void pack(
            List<Path> files,
            List<Integer> labels,
            List<String> classes,
            int size,
            long fingerprint,
            Path shard,
            int threads) {
        Shape shape = new Shape(3, size, size);
        ShardedDataset.Header header = new ShardedDataset.Header(
                files.size(), shape, classes.size(), fingerprint, Normalization.IMAGENET, classes);
        ImageIO.setUseCache(false);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "image-decoder");
            t.setDaemon(true);
            return t;
        });
        try (ShardWriter w = new ShardWriter(shard, header)) {
            for (int first = 0; first < files.size(); first += BLOCK) {
                List<Future<byte[]>> block = new ArrayList<>();
                for (int i = first; i < Math.min(files.size(), first + BLOCK); i++) {
                    Path f = files.get(i);
                    block.add(pool.submit(() -> decode(f, size)));
                }
                for (int k = 0; k < block.size(); k++) w.add(labels.get(first + k), get(block.get(k)));
            }
            w.finish();
        } finally {
            pool.shutdownNow();
        }
    }

    private static byte[] get(Future<byte[]> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while decoding images", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new UserError(String.valueOf(e.getCause()), e.getCause());
        }
    }

    /** Decodes one image to uint8 CHW RGB of size×size (shorter side resized, centre crop). */
    public static byte[] decode(Path file, int size) {
        BufferedImage src;
        try {
            src = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": corrupt or unreadable image: " + e.getMessage(), e);
        }
        if (src == null)
            throw new IllegalArgumentException(
                    file + ": corrupt image or unsupported format (ImageIO found no decoder)");
        int w = src.getWidth();
        int h = src.getHeight();
        double scale = (double) size / Math.min(w, h);
        int sw = Math.max(size, (int) Math.round(w * scale));
        int sh = Math.max(size, (int) Math.round(h * scale));
        BufferedImage dst = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = dst.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, -(sw - size) / 2, -(sh - size) / 2, sw, sh, null);
        } finally {
            g.dispose();
        }
        int plane = size * size;
        byte[] out = new byte[3 * plane];
        int[] rgb = dst.getRGB(0, 0, size, size, null, 0, size);
        for (int i = 0; i < plane; i++) {
            out[i] = (byte) (rgb[i] >> 16);
            out[plane + i] = (byte) (rgb[i] >> 8);
            out[2 * plane + i] = (byte) rgb[i];
        }
        return out;
    }
}
