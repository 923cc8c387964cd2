package org.dpsgd.noise;

import java.util.Locale;
import java.util.Map;

/**
 * Whether and how secure noise for the next step is drawn in the background while the backend computes
 * (backend setting {@code noise_prefetch}). The values never depend on it: every draw takes a fresh call
 * index (its own keystream) whether it was prepared ahead or made on request, and a prepared draw is used
 * once ({@code NoisePrefetcher}). Only where the host's cores go, and when, changes.
 */
public enum NoisePrefetch {
    /** Drawn on the caller's thread (and its noise pool) when the step needs it. */
    OFF,
    /** Drawn ahead on ordinary threads: for backends that compute off the host (GPU, IPU). */
    ON,
    /**
     * Drawn ahead on threads at Linux's idle scheduling class ({@code SCHED_IDLE}), which run only on
     * cores nothing else wants: on a CPU backend, the cycles the step leaves idle (single-threaded ops,
     * waits between OpenMP regions) go to the next step's noise. The step that needs the draw fills every
     * chunk the idle threads have not started itself ({@code SharedDraw}), so a machine too busy to give
     * them time costs a few chunks' wait, not the draw. Draws of at most two chunks (2¹⁵ coordinates) are
     * made when asked for, as with {@link #OFF}.
     */
    IDLE;

    /** The backend setting's key. */
    public static final String SETTING = "noise_prefetch";

    /** The setting's values, for its declaration in the settings table. */
    public static final java.util.List<String> VALUES = java.util.List.of("auto", "off", "on", "idle");

    /**
     * The mode {@code settings} ask for: {@code auto} (the default) is {@link #ON} where the device computes
     * off the host, and on a backend that computes on the host's cores {@link #IDLE} where this OS lets a
     * thread take the idle class (Linux), else {@link #OFF} (ordinary background threads would compete
     * with the step: measured slower). An explicit {@code idle} where the class is not available is refused
     * when the noise source is made.
     *
     * @throws IllegalArgumentException naming the setting and its valid values
     */
    public static NoisePrefetch from(Map<String, String> settings, boolean computesOnHostCores) {
        String s = settings.getOrDefault(SETTING, "auto").trim().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "auto" -> !computesOnHostCores ? ON : IdlePriority.available() ? IDLE : OFF;
            case "off" -> OFF;
            case "on" -> ON;
            case "idle" -> IDLE;
            default ->
                throw new IllegalArgumentException(
                        "backend setting " + SETTING + " must be auto, off, on or idle, got '" + s + "'");
        };
    }

    /** Whether a draw of {@code coordinates} is prepared ahead in this mode ({@link #IDLE}: above two chunks). */
    public boolean drawsAhead(long coordinates) {
        return switch (this) {
            case OFF -> false;
            case ON -> true;
            case IDLE -> coordinates > (long) NoisePool.CALLER_CHUNKS * ChunkedGaussian.CHUNK;
        };
    }

    /** For provenance and the bench's header. */
    public String describe() {
        return switch (this) {
            case OFF -> "off (drawn when the step needs it)";
            case ON -> "on (drawn ahead in the background)";
            case IDLE -> "idle (drawn ahead at the idle scheduling priority)";
        };
    }
}
