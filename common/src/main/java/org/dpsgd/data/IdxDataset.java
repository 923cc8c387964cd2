package org.dpsgd.data;

import java.io.DataInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.dpsgd.model.Shape;

/**
 * MNIST / Fashion-MNIST in the IDX format (plain or gzipped): {@code train-images-idx3-ubyte[.gz]},
 * {@code train-labels-idx1-ubyte[.gz]}, {@code t10k-images-idx3-ubyte[.gz]}, {@code t10k-labels-idx1-ubyte[.gz]}.
 * Pixels are scaled to [0, 1] and normalised with the dataset's published mean/std (Fashion-MNIST
 * 0.2860/0.3530 when the folder name contains "fashion", else MNIST's 0.1307/0.3081).
 */
public final class IdxDataset {
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    static final int CLASSES = 10;

    private IdxDataset() {}

    /** @param train true for the train-* files, false for t10k-* */
    public static Dataset open(Path folder, boolean train) {
        String prefix = train ? "train" : "t10k";
        Path images = find(folder, prefix + "-images-idx3-ubyte");
        Path labels = find(folder, prefix + "-labels-idx1-ubyte");
        return read(images, labels, normalizationFor(folder));
    }

    static Normalization normalizationFor(Path folder) {
        return folder.toAbsolutePath().toString().toLowerCase(Locale.ROOT).contains("fashion")
                ? Normalization.FASHION_MNIST
                : Normalization.MNIST;
    }

    /**
     * Examples [from, to) of the train-* (or t10k-*) files only: the pixels and labels of other examples
     * are skipped, never held (plain files by seeking, .gz by decompressing and discarding).
     *
     * @param train true for the train-* files, false for t10k-*
     */
    public static Dataset openRange(Path folder, boolean train, int from, int to) {
        String prefix = train ? "train" : "t10k";
        Path images = find(folder, prefix + "-images-idx3-ubyte");
        Path labels = find(folder, prefix + "-labels-idx1-ubyte");
        return read(images, labels, normalizationFor(folder), from, to);
    }

    /** The number of examples in the train-* (or t10k-*) image file, from its header alone. */
    public static int count(Path folder, boolean train) {
        Path images = find(folder, (train ? "train" : "t10k") + "-images-idx3-ubyte");
        DataInputStream in = DataFiles.open(images);
        try {
            return header(in, images)[0];
        } finally {
            DataFiles.close(in);
        }
    }

    /** What a whole read of the train-* (or t10k-*) files describes itself as: the image file. */
    static String origin(Path folder, boolean train) {
        return find(folder, (train ? "train" : "t10k") + "-images-idx3-ubyte").toString();
    }

    /** All examples of an image file and its label file. */
    public static Dataset read(Path imagesFile, Path labelsFile, Normalization norm) {
        return read(imagesFile, labelsFile, norm, 0, -1);
    }

    /**
     * Examples [from, to) of an image file and its label file ({@code to == -1}: to the end). Only
     * (to - from) images are held; the global N is checked against the header.
     */
    public static Dataset read(Path imagesFile, Path labelsFile, Normalization norm, int from, int to) {
        DataInputStream in = DataFiles.open(imagesFile);
        byte[] pixels;
        Shape shape;
        int n;
        int end;
        try {
            int[] h = header(in, imagesFile);
            n = h[0];
            end = to == -1 ? n : to;
            if (from < 0 || end <= from || end > n) {
                throw new IllegalArgumentException(
                        imagesFile + ": examples [" + from + ", " + end + ") are not within its " + n + " images");
            }
            shape = new Shape(1, h[1], h[2]);
            // Plain files: the JDK's file stream skips by seeking. Gzip: no random access, so the
            // preceding bytes are decompressed and discarded (time ~ from, memory constant).
            DataFiles.skip(in, (long) from * shape.size(), imagesFile, "images before example " + from);
            pixels = new byte[Math.multiplyExact(end - from, shape.size())];
            DataFiles.readFully(in, pixels, imagesFile, (end - from) + " images");
        } finally {
            DataFiles.close(in);
        }
        int held = end - from;
        int[] labels = new int[held];
        in = DataFiles.open(labelsFile);
        try {
            int magic = DataFiles.readInt(in, labelsFile, "magic number");
            if (magic != LABELS_MAGIC) {
                throw new IllegalArgumentException(labelsFile + ": bad magic number 0x" + Integer.toHexString(magic)
                        + " (an IDX label file starts with 0x00000801); is this the right file?");
            }
            int count = DataFiles.readInt(in, labelsFile, "label count");
            if (count != n) {
                throw new IllegalArgumentException(labelsFile + ": holds " + count + " labels but " + imagesFile
                        + " holds " + n + " images; the files do not belong together");
            }
            DataFiles.skip(in, from, labelsFile, "labels before example " + from);
            byte[] raw = new byte[held];
            DataFiles.readFully(in, raw, labelsFile, held + " labels");
            for (int i = 0; i < held; i++) {
                labels[i] = raw[i] & 0xFF;
                if (labels[i] >= CLASSES) {
                    throw new IllegalArgumentException(labelsFile + ": label " + labels[i] + " of example " + (from + i)
                            + " is out of range [0, " + CLASSES + ")");
                }
            }
        } finally {
            DataFiles.close(in);
        }
        return new ByteImageDataset(pixels, labels, shape, CLASSES, norm, imagesFile.toString());
    }

    /** Reads and checks an image file's header: {count, rows, cols}. */
    private static int[] header(DataInputStream in, Path imagesFile) {
        int magic = DataFiles.readInt(in, imagesFile, "magic number");
        if (magic != IMAGES_MAGIC) {
            throw new IllegalArgumentException(imagesFile + ": bad magic number 0x" + Integer.toHexString(magic)
                    + " (an IDX image file starts with 0x00000803); is this the right file?");
        }
        int n = DataFiles.readInt(in, imagesFile, "image count");
        int rows = DataFiles.readInt(in, imagesFile, "row count");
        int cols = DataFiles.readInt(in, imagesFile, "column count");
        if (n <= 0 || rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(imagesFile + ": bad header: " + n + " images of " + rows + "x" + cols);
        }
        return new int[] {n, rows, cols};
    }

    private static Path find(Path folder, String base) {
        Path plain = folder.resolve(base);
        if (Files.isRegularFile(plain)) return plain;
        Path gz = folder.resolve(base + ".gz");
        if (Files.isRegularFile(gz)) return gz;
        String hint =
                folder.toAbsolutePath().toString().toLowerCase(Locale.ROOT).contains("fashion")
                        ? "; install it with: sudo apt-get install dataset-fashion-mnist (or set data.path)"
                        : "; set data.path to the folder holding the IDX files";
        if (!Files.isDirectory(folder))
            throw new IllegalArgumentException("dataset folder " + folder + " does not exist" + hint);
        throw new IllegalArgumentException("missing file " + plain + " (or " + gz.getFileName() + ")" + hint);
    }
}
