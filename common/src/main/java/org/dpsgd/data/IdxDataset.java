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

    public static Dataset read(Path imagesFile, Path labelsFile, Normalization norm) {
        DataInputStream in = DataFiles.open(imagesFile);
        byte[] pixels;
        Shape shape;
        try {
            int magic = DataFiles.readInt(in, imagesFile, "magic number");
            if (magic != IMAGES_MAGIC) {
                throw new IllegalArgumentException(imagesFile + ": bad magic number 0x" + Integer.toHexString(magic)
                        + " (an IDX image file starts with 0x00000803); is this the right file?");
            }
            int n = DataFiles.readInt(in, imagesFile, "image count");
            int rows = DataFiles.readInt(in, imagesFile, "row count");
            int cols = DataFiles.readInt(in, imagesFile, "column count");
            if (n <= 0 || rows <= 0 || cols <= 0) {
                throw new IllegalArgumentException(
                        imagesFile + ": bad header: " + n + " images of " + rows + "x" + cols);
            }
            shape = new Shape(1, rows, cols);
            pixels = new byte[Math.multiplyExact(n, rows * cols)];
            DataFiles.readFully(in, pixels, imagesFile, n + " images");
        } finally {
            DataFiles.close(in);
        }
        int n = pixels.length / shape.size();
        int[] labels = new int[n];
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
            byte[] raw = new byte[n];
            DataFiles.readFully(in, raw, labelsFile, n + " labels");
            for (int i = 0; i < n; i++) {
                labels[i] = raw[i] & 0xFF;
                if (labels[i] >= CLASSES) {
                    throw new IllegalArgumentException(labelsFile + ": label " + labels[i] + " of example " + i
                            + " is out of range [0, " + CLASSES + ")");
                }
            }
        } finally {
            DataFiles.close(in);
        }
        return new ByteImageDataset(pixels, labels, shape, CLASSES, norm, imagesFile.toString());
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
