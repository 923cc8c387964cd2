package org.dpsgd.cli;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Where a command writes: picocli's {@code out} and {@code err} writers (so that whoever runs the command line, a test
 * or an embedding program, redirects both with {@code CommandLine.setOut/setErr}), never the JVM's standard streams
 * directly (Checkstyle refuses those in this package).
 * The run API ({@code TrainingRun.Options}, {@code Progress}) takes {@link PrintStream}s: {@link #stream} adapts a
 * writer to one, decoding the UTF-8 bytes it is given (ε, σ, δ) back into characters.
 */
final class CliOutput {
    private CliOutput() {}

    /** The command's standard output writer. */
    static PrintWriter out(CommandSpec spec) {
        return spec.commandLine().getOut();
    }

    /** The command's error writer (diagnostics, warnings, progress). */
    static PrintWriter err(CommandSpec spec) {
        return spec.commandLine().getErr();
    }

    /** A PrintStream writing through {@code writer} (UTF-8, flushed on each line and on {@code flush()}). */
    static PrintStream stream(PrintWriter writer) {
        return new PrintStream(new WriterOutputStream(writer), true, StandardCharsets.UTF_8);
    }

    /** UTF-8 bytes to a writer; a character split across writes is decoded once its last byte arrives. */
    private static final class WriterOutputStream extends OutputStream {
        private final PrintWriter writer;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        private final ByteBuffer bytes = ByteBuffer.allocate(1024);
        private final CharBuffer chars = CharBuffer.allocate(1024);

        WriterOutputStream(PrintWriter writer) {
            this.writer = writer;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            while (len > 0) {
                int n = Math.min(len, bytes.remaining());
                bytes.put(b, off, n);
                off += n;
                len -= n;
                bytes.flip();
                CoderResult r;
                do {
                    r = decoder.decode(bytes, chars, false);
                    chars.flip();
                    writer.append(chars);
                    chars.clear();
                } while (r.isOverflow());
                bytes.compact(); // keeps the first bytes of a character whose rest is still to come
            }
        }

        @Override
        public void flush() {
            writer.flush();
        }
    }
}
