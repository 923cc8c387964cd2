package org.dpsgd.backend;

import java.util.Map;

/**
 * Run-time options for opening a backend. {@code settings} carries backend-specific keys from the
 * config's backend section (e.g. "threads", "replicas"; each backend declares its keys, {@link BackendProvider#settings()}) as strings.
 */
public record BackendOptions(String device, Map<String, String> settings) {
    public BackendOptions {
        device = device == null ? "auto" : device;
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    /** The CPU with no backend-specific settings (tests, tools). */
    public static BackendOptions cpu() {
        return new BackendOptions("cpu", Map.of());
    }

    /** The string value of backend setting {@code key}, or {@code fallback} when the config does not set it. */
    public String setting(String key, String fallback) {
        return settings.getOrDefault(key, fallback);
    }
}
