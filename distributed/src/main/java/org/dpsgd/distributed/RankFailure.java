package org.dpsgd.distributed;

import java.io.PrintStream;

/**
 * What a rank does when it fails: print one line naming the rank and the cause, then end every rank of the
 * run at once (MPI_Abort), so no other rank waits forever in its next collective.
 */
public final class RankFailure {
    /** Exit code of an aborted run (the CLI's "bad input or failed run" code). */
    public static final int EXIT_CODE = 2;

    private RankFailure() {}

    /** The one line: "error: rank R of W failed: cause; stopping all ranks". */
    public static String message(Communicator c, Throwable cause) {
        String what = cause.getMessage() != null
                ? cause.getMessage()
                : cause.getClass().getName();
        return "error: rank " + c.rank() + " of " + c.size() + " failed: " + what + "; stopping all ranks";
    }

    /** Prints {@link #message} to {@code err} and aborts the run; does not return (except on an in-process group, which throws). */
    public static void abort(Communicator c, Throwable cause, PrintStream err) {
        err.println(message(c, cause));
        err.flush();
        c.abort(EXIT_CODE);
    }
}
