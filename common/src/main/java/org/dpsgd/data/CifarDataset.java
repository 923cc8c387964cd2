package org.dpsgd.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Shape;

/**
 * CIFAR-10 / CIFAR-100 in the binary format. CIFAR-10 records are 1 label byte + 3072 pixel bytes
 * (data_batch_1..5.bin, test_batch.bin); CIFAR-100 records are 2 label bytes (coarse, fine) + 3072
 * pixel bytes (train.bin, test.bin), and the fine label is used. Pixels are planar RGB 32x32,
 * normalised with the published per-channel mean/std. The folder may be the extracted archive's
 * parent (cifar-10-batches-bin/, cifar-100-binary/ are looked into).
 */
public final class CifarDataset {
    static final Shape SHAPE = new Shape(3, 32, 32);

    private CifarDataset() {}

    public static Dataset open(Path folder, boolean cifar100, boolean train) {
        Path dir = resolveFolder(folder, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin");
        List<Path> files = new ArrayList<>();
        if (cifar100) {
            files.add(dir.resolve(train ? "train.bin" : "test.bin"));
        } else if (train) {
            for (int i = 1; i <= 5; i++) files.add(dir.resolve("data_batch_" + i + ".bin"));
        } else {
            files.add(dir.resolve("test_batch.bin"));
        }
        return read(files, cifar100);
    }

    public static Dataset read(List<Path> files, boolean cifar100) {
        int labelBytes = cifar100 ? 2 : 1;
        int classes = cifar100 ? 100 : 10;
        int record = labelBytes + SHAPE.size();
        long total = 0;
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException(
                        "missing file " + f + " (CIFAR-" + classes + " binary version; set data.path to its folder)");
            }
            long size = size(f);
            if (size == 0 || size % record != 0) {
                throw new IllegalArgumentException(f + ": " + size + " bytes is not a whole number of " + record
                        + "-byte CIFAR-" + classes + " records: truncated or not a CIFAR-" + classes + " binary file");
            }
            total += size / record;
        }
        int n = Math.toIntExact(total);
        byte[] pixels = new byte[Math.multiplyExact(n, SHAPE.size())];
        int[] labels = new int[n];
        int i = 0;
        for (Path f : files) {
            byte[] raw = readAll(f);
            for (int r = 0; r < raw.length / record; r++, i++) {
                int at = r * record;
                int label = raw[at + labelBytes - 1] & 0xFF;
                if (label >= classes) {
                    throw new IllegalArgumentException(
                            f + ": label " + label + " of record " + r + " is out of range [0, " + classes + ")");
                }
                labels[i] = label;
                System.arraycopy(raw, at + labelBytes, pixels, i * SHAPE.size(), SHAPE.size());
            }
        }
        Normalization norm = cifar100 ? Normalization.CIFAR100 : Normalization.CIFAR10;
        return new ByteImageDataset(
                pixels,
                labels,
                SHAPE,
                classes,
                norm,
                files.size() == 1
                        ? files.get(0).toString()
                        : files.get(0).getParent().toString());
    }

    private static Path resolveFolder(Path folder, String archiveDir) {
        if (!Files.isDirectory(folder))
            throw new IllegalArgumentException("dataset folder " + folder + " does not exist; set data.path");
        Path inner = folder.resolve(archiveDir);
        return Files.isDirectory(inner) ? inner : folder;
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": cannot read its size: " + e.getMessage(), e);
        }
    }

    private static byte[] readAll(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": cannot read: " + e.getMessage(), e);
        }
    }
}
