package org.dpsgd.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a {@link ShardedDataset} file example by example, in order, into a temporary file that is
 * renamed into place only when complete: a crash never leaves a half-written shard under the real name.
 */
public final class ShardWriter implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private final ShardedDataset.Header header;
    private final FileChannel ch;
    private final long labelsAt;
    private final long pixelsAt;
    private int written;
    private boolean done;

    /**
     * Starts writing the {@code header.count()} examples of a shard for {@code target}, into a temporary file next to
     * it.
     */
    public ShardWriter(Path target, ShardedDataset.Header header) {
        this.target = target;
        this.header = header;
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            this.temp = Files.createTempFile(dir, target.getFileName().toString(), ".partial");
            this.ch = FileChannel.open(temp, StandardOpenOption.WRITE);
            byte[] head = ShardedDataset.headerBytes(header);
            ch.write(ByteBuffer.wrap(head), 0);
            this.labelsAt = head.length;
            this.pixelsAt = labelsAt + 4L * header.count();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create shard " + target + ": " + e.getMessage(), e);
        }
    }

    /** Appends the next example (uint8 CHW, exactly C·H·W bytes). */
    public void add(int label, byte[] chw) {
        int n = header.shape().size();
        if (chw.length != n)
            throw new IllegalArgumentException("example has " + chw.length + " bytes, the shard expects " + n);
        if (written >= header.count())
            throw new IllegalStateException("shard " + target + " already holds its " + header.count() + " examples");
        if (label < 0 || label >= header.numClasses())
            throw new IllegalArgumentException("label " + label + " outside [0, " + header.numClasses() + ")");
        try {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, label), labelsAt + 4L * written);
            ch.write(ByteBuffer.wrap(chw), pixelsAt + (long) written * n);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write shard " + temp + ": " + e.getMessage(), e);
        }
        written++;
    }

    /** Syncs and renames the finished shard into place. */
    public void finish() {
        if (written != header.count()) {
            throw new IllegalStateException(
                    "shard " + target + " got " + written + " of its " + header.count() + " examples");
        }
        try {
            ch.force(true);
            ch.close();
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish shard " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (done) return;
        try {
            ch.close();
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // best effort: an abandoned .partial file is never read
        }
    }
}
