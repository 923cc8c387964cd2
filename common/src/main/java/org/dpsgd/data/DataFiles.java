package org.dpsgd.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Opening and reading dataset files with errors that name the file and what is wrong. */
final class DataFiles {
    private DataFiles() {}

    /** Opens a file, transparently gunzipping when it starts with the gzip magic. */
    static DataInputStream open(Path file) {
        try {
            InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            if (b0 == 0x1f && b1 == 0x8b) in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
            return new DataInputStream(in);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot open: " + e.getMessage(), e);
        }
    }

    /** Reads exactly {@code dst.length} bytes or fails naming the file as truncated. */
    static void readFully(DataInputStream in, byte[] dst, Path file, String what) {
        try {
            in.readFully(dst);
        } catch (EOFException e) {
            throw new IllegalArgumentException(
                    file + ": truncated: ended while reading " + what + " (" + dst.length + " bytes expected)", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    /** Skips exactly {@code n} bytes (a seek for plain files, decompress-and-discard for gzip) or fails as truncated. */
    static void skip(DataInputStream in, long n, Path file, String what) {
        try {
            in.skipNBytes(n);
        } catch (EOFException e) {
            throw new IllegalArgumentException(
                    file + ": truncated: ended while skipping " + what + " (" + n + " bytes)", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot skip " + what + ": " + e.getMessage(), e);
        }
    }

    static int readInt(DataInputStream in, Path file, String what) {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new IllegalArgumentException(file + ": truncated: ended while reading the " + what, e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read the " + what + ": " + e.getMessage(), e);
        }
    }

    static boolean atEnd(DataInputStream in, Path file) {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static void close(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // Read-only stream: nothing is lost when close fails.
        }
    }
}
