package org.dpsgd.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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

    /** All examples of the CIFAR-10 (or -100) train or test files in {@code folder}. */
    public static Dataset open(Path folder, boolean cifar100, boolean train) {
        return read(files(folder, cifar100, train), cifar100);
    }

    /**
     * Examples [from, to) of the train or test files in {@code folder}, in file order; only their
     * records are read (by file offset), no others are held.
     */
    public static Dataset openRange(Path folder, boolean cifar100, boolean train, int from, int to) {
        return read(files(folder, cifar100, train), cifar100, from, to);
    }

    /** The number of examples in the train or test files, from the file sizes alone. */
    public static int count(Path folder, boolean cifar100, boolean train) {
        List<Path> files = files(folder, cifar100, train);
        long total = 0;
        for (Path f : files) total += records(f, cifar100);
        return Math.toIntExact(total);
    }

    /** What a whole read of the train or test files describes itself as. */
    static String origin(Path folder, boolean cifar100, boolean train) {
        return origin(files(folder, cifar100, train));
    }

    private static String origin(List<Path> files) {
        return files.size() == 1
                ? files.get(0).toString()
                : files.get(0).getParent().toString();
    }

    private static List<Path> files(Path folder, boolean cifar100, boolean train) {
        Path dir = resolveFolder(folder, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin");
        List<Path> files = new ArrayList<>();
        if (cifar100) {
            files.add(dir.resolve(train ? "train.bin" : "test.bin"));
        } else if (train) {
            for (int i = 1; i <= 5; i++) files.add(dir.resolve("data_batch_" + i + ".bin"));
        } else {
            files.add(dir.resolve("test_batch.bin"));
        }
        return files;
    }

    /** All records of {@code files}, in order. */
    public static Dataset read(List<Path> files, boolean cifar100) {
        return read(files, cifar100, 0, -1);
    }

    /**
     * Records [from, to) of {@code files} taken as one sequence ({@code to == -1}: to the end). Every
     * file's size is checked; only the files overlapping the range are opened, at the range's offset.
     */
    public static Dataset read(List<Path> files, boolean cifar100, int from, int to) {
        int labelBytes = cifar100 ? 2 : 1;
        int classes = cifar100 ? 100 : 10;
        long[] counts = new long[files.size()];
        long total = 0;
        for (int k = 0; k < files.size(); k++) {
            counts[k] = records(files.get(k), cifar100);
            total += counts[k];
        }
        int n = Math.toIntExact(total);
        int end = to == -1 ? n : to;
        String origin = origin(files);
        if (from < 0 || end <= from || end > n) {
            throw new IllegalArgumentException(
                    origin + ": examples [" + from + ", " + end + ") are not within its " + n + " records");
        }
        int held = end - from;
        byte[] pixels = new byte[Math.multiplyExact(held, SHAPE.size())];
        int[] labels = new int[held];
        long first = 0; // global index of the current file's record 0
        for (int k = 0; k < files.size(); k++) {
            long lo = Math.max(from, first);
            long hi = Math.min(end, first + counts[k]);
            if (lo < hi)
                readRecords(
                        files.get(k), lo - first, hi - first, (int) (lo - from), labelBytes, classes, pixels, labels);
            first += counts[k];
        }
        Normalization norm = cifar100 ? Normalization.CIFAR100 : Normalization.CIFAR10;
        return new ByteImageDataset(pixels, labels, SHAPE, classes, norm, origin);
    }

    /** Records [lo, hi) of one file into slot {@code at} onwards, a bounded chunk at a time. */
    private static void readRecords(
            Path f, long lo, long hi, int at, int labelBytes, int classes, byte[] pixels, int[] labels) {
        int record = labelBytes + SHAPE.size();
        int chunk = 1024; // records per read: ~3 MB, so no second copy of a whole file is held
        byte[] raw = new byte[(int) Math.min(hi - lo, chunk) * record];
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ch.position(lo * record);
            for (long r = lo; r < hi; ) {
                int count = (int) Math.min(hi - r, chunk);
                ByteBuffer buf = ByteBuffer.wrap(raw, 0, count * record);
                while (buf.hasRemaining()) {
                    if (ch.read(buf) < 0) throw new IllegalArgumentException(f + ": truncated: ended at record " + r);
                }
                for (int j = 0; j < count; j++, r++, at++) {
                    int off = j * record;
                    int label = raw[off + labelBytes - 1] & 0xFF;
                    if (label >= classes) {
                        throw new IllegalArgumentException(
                                f + ": label " + label + " of record " + r + " is out of range [0, " + classes + ")");
                    }
                    labels[at] = label;
                    System.arraycopy(raw, off + labelBytes, pixels, at * SHAPE.size(), SHAPE.size());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** A file's record count, after checking that it exists and holds whole records. */
    private static long records(Path f, boolean cifar100) {
        int classes = cifar100 ? 100 : 10;
        int record = (cifar100 ? 2 : 1) + SHAPE.size();
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException(
                    "missing file " + f + " (CIFAR-" + classes + " binary version; set data.path to its folder)");
        }
        long size = size(f);
        if (size == 0 || size % record != 0) {
            throw new IllegalArgumentException(f + ": " + size + " bytes is not a whole number of " + record
                    + "-byte CIFAR-" + classes + " records: truncated or not a CIFAR-" + classes + " binary file");
        }
        return size / record;
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
}
