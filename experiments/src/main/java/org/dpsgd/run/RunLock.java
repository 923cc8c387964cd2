package org.dpsgd.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.dpsgd.UserError;

/**
 * An exclusive OS lock on a run folder ({@code .lock}), held for the life of the process that
 * trains into it. The OS releases it when that process dies, however it dies, so a stale lock file
 * never blocks a resume, and a second process on the same folder is refused while the first lives.
 * The file holds the owner's PID, for the error message only.
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = ".lock";
    /** Folders locked by this JVM: the OS lock is per process, so same-process re-entry is checked here. */
    private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

    private final Path folder;
    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(Path folder, FileChannel channel, FileLock lock) {
        this.folder = folder;
        this.channel = channel;
        this.lock = lock;
    }

    /** Locks {@code runDir} or throws IllegalStateException naming the process that holds it. */
    public static RunLock acquire(Path runDir) {
        Path key = runDir.toAbsolutePath().normalize();
        if (!HELD_HERE.add(key)) {
            throw new UserError(runDir + " is in use by process "
                    + ProcessHandle.current().pid() + " (this process); wait for it to finish, or use another --out");
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(
                    key.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l = ch.tryLock();
            if (l == null) {
                String owner = readOwner(ch);
                ch.close();
                throw new UserError(
                        runDir + " is in use by process " + owner + "; wait for it to finish or stop it, then resume");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            ch.force(false);
            return new RunLock(key, ch, l);
        } catch (IOException e) {
            closeQuietly(ch);
            HELD_HERE.remove(key);
            throw new UncheckedIOException("cannot lock run folder " + runDir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            HELD_HERE.remove(key);
            throw e;
        }
    }

    /** True while some live process (this one included) holds the lock of {@code runDir}. */
    public static boolean isHeld(Path runDir) {
        Path key = runDir.toAbsolutePath().normalize();
        if (HELD_HERE.contains(key)) return true;
        Path f = key.resolve(FILE);
        if (!Files.exists(f)) return false;
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) return true;
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        } catch (IOException e) {
            return false; // unreadable lock file (e.g. a read-only copy of the folder): nobody can be training there
        }
    }

    private static String readOwner(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return s.isEmpty() ? "(unknown)" : s;
        } catch (IOException e) {
            return "(unknown)";
        }
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch == null) return;
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing more to release
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        } finally {
            closeQuietly(channel);
            HELD_HERE.remove(folder);
        }
    }
}
