package org.dpsgd.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dpsgd.UserError;

/**
 * Checkpoint files of one run: {@code ckpt-<step>.bin}, written atomically (temporary file in the
 * same folder, fsync, atomic rename, fsync of the folder), so a crash leaves either the old or the
 * new checkpoint, never a torn one. Only the newest {@code keep} are kept. Format (big-endian):
 * <pre>"DPSGDCK1" | int version=1 | long step | long payloadBytes | byte[32] SHA-256(payload) | payload</pre>
 */
public final class Checkpoints {
    static final byte[] MAGIC = "DPSGDCK1".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER = MAGIC.length + 4 + 8 + 8 + 32;
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d+)\\.bin");

    private final Path dir;
    private final int keep;

    public Checkpoints(Path dir, int keep) {
        if (keep < 1) throw new IllegalArgumentException("must keep at least one checkpoint, got " + keep);
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    /** Writes the checkpoint of {@code step} atomically, then deletes all but the newest {@code keep}. */
    public Path save(long step, byte[] payload) {
        return save(step, payload, () -> {});
    }

    /** As {@link #save(long, byte[])}; {@code beforeRename} runs once the temporary file is durable (a crash point for tests). */
    public Path save(long step, byte[] payload, Runnable beforeRename) {
        Path target = dir.resolve(String.format("ckpt-%09d.bin", step));
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "ckpt-", ".tmp");
            try {
                try (FileChannel ch =
                        FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    ByteBuffer head = ByteBuffer.allocate(HEADER);
                    head.put(MAGIC)
                            .putInt(VERSION)
                            .putLong(step)
                            .putLong(payload.length)
                            .put(sha256(payload))
                            .flip();
                    writeAll(ch, head);
                    writeAll(ch, ByteBuffer.wrap(payload));
                    ch.force(true);
                }
                beforeRename.run();
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            fsyncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target + ": " + e.getMessage(), e);
        }
        prune();
        return target;
    }

    /** Checkpoint files, oldest first. */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir + ": " + e.getMessage(), e);
        }
        out.sort((a, b) -> Long.compare(stepOf(a), stepOf(b)));
        return out;
    }

    public Optional<Path> latest() {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    static long stepOf(Path p) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!m.matches()) throw new IllegalArgumentException(p + " is not a checkpoint file name (ckpt-<step>.bin)");
        return Long.parseLong(m.group(1));
    }

    /** A verified checkpoint's step and payload. */
    public record Loaded(long step, byte[] payload) {}

    /** Reads and verifies a checkpoint; a truncated, foreign or corrupted file is a clear error. */
    public static Loaded load(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
        String fix = "; delete it to resume from the previous checkpoint, or start the run again";
        if (all.length < HEADER)
            throw new UserError("checkpoint " + file + " is truncated (" + all.length + " bytes)" + fix);
        ByteBuffer b = ByteBuffer.wrap(all);
        byte[] magic = new byte[MAGIC.length];
        b.get(magic);
        if (!Arrays.equals(magic, MAGIC)) throw new UserError(file + " is not a dpsgd checkpoint (bad magic)" + fix);
        int version = b.getInt();
        if (version != VERSION)
            throw new UserError("checkpoint " + file + " has version " + version + ", this build reads " + VERSION);
        long step = b.getLong();
        long len = b.getLong();
        byte[] sum = new byte[32];
        b.get(sum);
        if (len != all.length - HEADER) {
            throw new UserError("checkpoint " + file + " is truncated: " + (all.length - HEADER) + " of " + len
                    + " payload bytes" + fix);
        }
        byte[] payload = Arrays.copyOfRange(all, HEADER, all.length);
        if (!MessageDigest.isEqual(sum, sha256(payload))) {
            throw new UserError("checkpoint " + file + " is corrupt: its SHA-256 checksum does not match" + fix);
        }
        return new Loaded(step, payload);
    }

    private void prune() {
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) {
            try {
                Files.deleteIfExists(all.get(i));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete old checkpoint " + all.get(i) + ": " + e.getMessage(), e);
            }
        }
    }

    private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Makes the rename durable: on Linux a directory is fsynced through a read-only channel. */
    static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse to open directories; the rename itself is still atomic there.
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
