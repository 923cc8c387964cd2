package org.dpsgd.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * Runs a command with the JVM's standard output and error captured (the {@code dpsgd} command line in tests), and puts
 * the streams back afterwards, also when the command throws.
 *
 * @param code what the command returned (its exit code)
 * @param out everything written to standard output, UTF-8
 * @param err everything written to standard error, UTF-8
 */
public record ConsoleCapture(int code, String out, String err) {
    /** Runs {@code command} with both streams captured. */
    public static ConsoleCapture run(IntSupplier command) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = command.getAsInt();
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new ConsoleCapture(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
