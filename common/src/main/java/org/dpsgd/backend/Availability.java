package org.dpsgd.backend;

/** Whether a backend can run here, and if not, exactly why (shown by {@code dpsgd backends}). */
public record Availability(boolean available, String reason) {
    /** The backend can run here; {@code detail} says on what (shown by {@code dpsgd backends}). */
    public static Availability yes(String detail) {
        return new Availability(true, detail);
    }

    /** The backend cannot run here; {@code reason} names the first missing piece and how to supply it. */
    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
