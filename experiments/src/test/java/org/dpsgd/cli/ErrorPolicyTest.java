package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.dpsgd.UserError;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Main tells a user error (exit 2, one line) from a bug (exit 1, stack trace, a request to report it). */
class ErrorPolicyTest {
    @Command(name = "fail")
    static final class Failing implements Callable<Integer> {
        final Supplier<RuntimeException> failure;

        Failing(Supplier<RuntimeException> failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() {
            throw failure.get();
        }
    }

    /** Runs {@code dpsgd fail --x} through Main's handler with the given failure; returns [exit code, stderr]. */
    private static Object[] failWith(Supplier<RuntimeException> failure) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Main()).addSubcommand("fail", new Failing(failure));
        cl.setErr(new PrintWriter(err, true));
        int code = Main.execute(cl, "fail");
        return new Object[] {code, err.toString()};
    }

    @Test
    void anInternalInvariantIsReportedAsABugWithItsStackTrace() {
        Object[] r = failWith(() -> new IllegalStateException("invariant broken: 3 != 4"));
        String err = (String) r[1];
        assertEquals(1, r[0], err);
        assertTrue(err.contains("java.lang.IllegalStateException: invariant broken: 3 != 4"), err);
        assertTrue(err.contains("\tat org.dpsgd.cli.ErrorPolicyTest"), "stack trace expected: " + err);
        assertTrue(err.contains("please report it"), err);
        assertTrue(err.contains("command line: dpsgd fail"), err);
        assertFalse(err.startsWith("error: "), err);
    }

    @Test
    void aNullPointerIsABugToo() {
        Object[] r = failWith(NullPointerException::new);
        assertEquals(1, r[0]);
        assertTrue(((String) r[1]).contains("java.lang.NullPointerException"), (String) r[1]);
    }

    @Test
    void userErrorsAreOneLineWithExitTwo() {
        for (Supplier<RuntimeException> f : java.util.List.<Supplier<RuntimeException>>of(
                () -> new UserError("run folder x is in use by process 7"),
                () -> new IllegalArgumentException("training.batch_size must be > 0, got 0"),
                () -> new UncheckedIOException(new java.io.IOException("no file at /nope")))) {
            RuntimeException expected = f.get();
            Object[] r = failWith(f);
            String err = (String) r[1];
            assertEquals(2, r[0], err);
            assertEquals("error: " + expected.getMessage() + System.lineSeparator(), err);
        }
    }

    @Test
    void aUserErrorStillSatisfiesTheStateErrorContract() {
        // Code and tests that catch IllegalStateException keep working after the conversion.
        assertTrue(IllegalStateException.class.isAssignableFrom(UserError.class));
        assertTrue(Main.isUserError(new UserError("x")));
        assertFalse(Main.isUserError(new IllegalStateException("x")));
    }
}
