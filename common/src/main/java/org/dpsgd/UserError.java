package org.dpsgd;

/**
 * A failure the user can fix, as opposed to a bug: a missing file, an exhausted privacy budget, a run folder in use, a
 * corrupt checkpoint or ledger, a resume that is refused, a backend that cannot run here. The CLI prints its message as
 * one {@code error: ...} line and exits 2 (as for {@link IllegalArgumentException} and I/O errors); any other
 * exception, a plain {@link IllegalStateException} from an internal invariant included, is reported as a bug (exit 1
 * with the stack trace).
 *
 * <p>It extends {@link IllegalStateException} so that code and tests written against the state-error contract keep
 * working; what makes it a user error is this type, not its parent.
 */
public class UserError extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** A user error with the one-line message shown after {@code error: }. */
    public UserError(String message) {
        super(message);
    }

    /** A user error with its message and the exception that revealed it (kept for --debug style inspection). */
    public UserError(String message, Throwable cause) {
        super(message, cause);
    }
}
