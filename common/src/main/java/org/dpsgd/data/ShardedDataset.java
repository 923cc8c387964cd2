package org.dpsgd.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dpsgd.model.Shape;

/**
 * A pre-packed dataset shard, memory-mapped. Layout (little-endian):
 * <pre>
 *   "DPSGDSH1" | int version=1 | int count | int C | int H | int W | int classes | long fingerprint
 *   | int normChannels | float mean[normChannels] | float std[normChannels]
 *   | int namesBytes | UTF-8 class names joined by '\n'
 *   | int labels[count] | uint8 pixels[count][C][H][W]
 * </pre>
 * The fingerprint identifies the source (files, sizes, times, image size) so a stale shard is
 * rebuilt rather than silently reused. Files larger than 2 GiB are mapped in several regions.
 */
public final class ShardedDataset implements Dataset, AutoCloseable {
    static final byte[] MAGIC = "DPSGDSH1".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;

    /** What a shard's header says. */
    public record Header(
            int count, Shape shape, int numClasses, long fingerprint, Normalization norm, List<String> classNames) {}

    private final Path file;
    private final Header header;
    private final int[] labels;
    private final MappedByteBuffer[] regions;
    private final int perRegion;
    private final float[][] tables;
    private final FileChannel channel;
    private final ThreadLocal<byte[]> scratch;

    private ShardedDataset(
            Path file, Header header, int[] labels, MappedByteBuffer[] regions, int perRegion, FileChannel channel) {
        this.file = file;
        this.header = header;
        this.labels = labels;
        this.regions = regions;
        this.perRegion = perRegion;
        this.channel = channel;
        this.tables = header.norm().tables(header.shape().channels());
        int n = header.shape().size();
        this.scratch = ThreadLocal.withInitial(() -> new byte[n]);
    }

    /** Opens and validates a shard; a truncated or foreign file is an error naming the file. */
    public static ShardedDataset open(Path file) {
        return open(file, Integer.MAX_VALUE);
    }

    /** @param maxRegionBytes the largest mapped region (2 GiB in use; tests lower it to exercise several regions) */
    static ShardedDataset open(Path file, int maxRegionBytes) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            long fileSize = ch.size();
            ByteBuffer head =
                    ByteBuffer.allocate((int) Math.min(fileSize, 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(head, 0);
            head.flip();
            Header h = parseHeader(head, file);
            int headerBytes = head.position();
            long labelsAt = headerBytes;
            long pixelsAt = labelsAt + 4L * h.count();
            long expected = pixelsAt + (long) h.count() * h.shape().size();
            if (fileSize != expected) {
                throw new IllegalArgumentException(file + ": shard is " + fileSize + " bytes, its header says "
                        + expected + " (truncated or partly written); delete it to have it rebuilt");
            }
            ByteBuffer lb = ByteBuffer.allocate(4 * h.count()).order(ByteOrder.LITTLE_ENDIAN);
            while (lb.hasRemaining()) if (ch.read(lb, labelsAt + lb.position()) < 0) break;
            lb.flip();
            int[] labels = new int[h.count()];
            lb.asIntBuffer().get(labels);
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0 || labels[i] >= h.numClasses()) {
                    throw new IllegalArgumentException(file + ": label " + labels[i] + " of example " + i
                            + " is out of range [0, " + h.numClasses() + ")");
                }
            }
            int exampleBytes = h.shape().size();
            int perRegion = Math.max(1, maxRegionBytes / exampleBytes);
            List<MappedByteBuffer> regions = new ArrayList<>();
            for (long first = 0; first < h.count(); first += perRegion) {
                long n = Math.min(perRegion, h.count() - first);
                regions.add(ch.map(FileChannel.MapMode.READ_ONLY, pixelsAt + first * exampleBytes, n * exampleBytes));
            }
            return new ShardedDataset(file, h, labels, regions.toArray(MappedByteBuffer[]::new), perRegion, ch);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new UncheckedIOException(file + ": cannot read shard: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Reads only the header (to decide whether a cached shard is still current); null when unreadable. */
    public static Header peekHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer head =
                    ByteBuffer.allocate((int) Math.min(ch.size(), 1 << 20)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(head, 0);
            head.flip();
            return parseHeader(head, file);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Header parseHeader(ByteBuffer b, Path file) {
        try {
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            if (!Arrays.equals(magic, MAGIC))
                throw new IllegalArgumentException(file + ": not a dpsgd shard (bad magic)");
            int version = b.getInt();
            if (version != VERSION)
                throw new IllegalArgumentException(
                        file + ": shard version " + version + ", expected " + VERSION + "; delete it to rebuild");
            int count = b.getInt();
            Shape shape = new Shape(b.getInt(), b.getInt(), b.getInt());
            int classes = b.getInt();
            long fingerprint = b.getLong();
            int nc = b.getInt();
            if (count <= 0 || classes <= 0 || nc <= 0 || nc > 4096)
                throw new IllegalArgumentException(file + ": corrupt shard header");
            float[] mean = new float[nc];
            float[] std = new float[nc];
            for (int i = 0; i < nc; i++) mean[i] = b.getFloat();
            for (int i = 0; i < nc; i++) std[i] = b.getFloat();
            int namesBytes = b.getInt();
            if (namesBytes < 0 || namesBytes > b.remaining())
                throw new IllegalArgumentException(file + ": corrupt shard header (class names)");
            byte[] names = new byte[namesBytes];
            b.get(names);
            List<String> classNames =
                    namesBytes == 0 ? List.of() : List.of(new String(names, StandardCharsets.UTF_8).split("\n", -1));
            return new Header(count, shape, classes, fingerprint, new Normalization(mean, std), classNames);
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException(file + ": truncated shard header; delete it to have it rebuilt", e);
        }
    }

    /** The header bytes for {@link ShardWriter}. */
    static byte[] headerBytes(Header h) {
        byte[] names = String.join("\n", h.classNames()).getBytes(StandardCharsets.UTF_8);
        int nc = h.norm().mean().length;
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 * 6 + 8 + 4 + 8 * nc + 4 + names.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC)
                .putInt(VERSION)
                .putInt(h.count())
                .putInt(h.shape().channels())
                .putInt(h.shape().height())
                .putInt(h.shape().width())
                .putInt(h.numClasses())
                .putLong(h.fingerprint())
                .putInt(nc);
        for (float m : h.norm().mean()) b.putFloat(m);
        for (float s : h.norm().std()) b.putFloat(s);
        b.putInt(names.length).put(names);
        return b.array();
    }

    /** The shard's header: count, shape, classes, normalisation and source fingerprint. */
    public Header header() {
        return header;
    }

    /** The shard file this dataset reads. */
    public Path file() {
        return file;
    }

    @Override
    public int size() {
        return header.count();
    }

    @Override
    public Shape shape() {
        return header.shape();
    }

    @Override
    public int numClasses() {
        return header.numClasses();
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public float[][] byteTables() {
        return tables;
    }

    /** The raw uint8 CHW bytes of one example. */
    @Override
    public void readBytes(int index, byte[] dst) {
        if (index < 0 || index >= header.count())
            throw new IndexOutOfBoundsException("example " + index + " outside [0, " + header.count() + ")");
        int n = header.shape().size();
        regions[index / perRegion].get((index % perRegion) * n, dst, 0, n);
    }

    @Override
    public void read(int index, float[] dst, int offset) {
        byte[] px = scratch.get();
        readBytes(index, px);
        int plane = header.shape().height() * header.shape().width();
        for (int c = 0; c < header.shape().channels(); c++) {
            float[] t = tables[c];
            int from = c * plane;
            int to = offset + c * plane;
            for (int i = 0; i < plane; i++) dst[to + i] = t[px[from + i] & 0xFF];
        }
    }

    @Override
    public String describe() {
        return file.toString();
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // read-only channel
        }
    }
}
