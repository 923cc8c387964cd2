package org.dpsgd.backend;

/** Whether a backend can run here, and if not, exactly why (shown by {@code dpsgd backends}). */
public record Availability(boolean available, String reason) {
    public static Availability yes(String detail) {
        return new Availability(true, detail);
    }

    public static Availability no(String reason) {
        return new Availability(false, reason);
    }
}
