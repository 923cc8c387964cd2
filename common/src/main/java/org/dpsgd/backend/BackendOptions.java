package org.dpsgd.backend;

import java.util.Map;

/**
 * Run-time options for opening a backend. {@code settings} carries backend-specific keys from the
 * config's backend section (e.g. "threads", "strategy", "replicas") as strings.
 */
public record BackendOptions(String device, Map<String, String> settings) {
    public BackendOptions {
        device = device == null ? "auto" : device;
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    public static BackendOptions cpu() {
        return new BackendOptions("cpu", Map.of());
    }

    public String setting(String key, String fallback) {
        return settings.getOrDefault(key, fallback);
    }
}
