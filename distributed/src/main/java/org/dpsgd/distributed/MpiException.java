package org.dpsgd.distributed;

/** An MPI call returned an error code; the message names the call and MPI's text for the code. */
public final class MpiException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public MpiException(String message) {
        super(message);
    }
}
