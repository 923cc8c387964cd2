package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * @param name auto (IPU if available, else DJL), djl or ipu
 * @param device auto, cpu, gpu, gpu:N, ipu
 * @param strategy per-sample clipping strategy (DJL: auto, microbatch, bookkeeping, ...); the IPU always uses micro-batches
 * @param settings backend-specific keys (DJL: threads, interop_threads, omp_wait_policy; IPU: replicas, precision,
 *                 available_memory_proportion, executable_cache, stochastic_rounding)
 */
public record BackendConfig(
        @JsonProperty("name") String name,
        @JsonProperty("device") String device,
        @JsonProperty("strategy") String strategy,
        @JsonProperty("settings") Map<String, String> settings) {

    public BackendConfig {
        if (name == null) name = "auto";
        if (device == null) device = "auto";
        if (strategy == null) strategy = "auto";
        if (settings != null) {
            for (Map.Entry<String, String> e : settings.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException(
                            "backend.settings." + e.getKey() + " has no value; give one (e.g. " + "backend.settings."
                                    + e.getKey() + ": 2) or remove the key");
                }
            }
        }
        settings = settings == null ? Map.of() : Map.copyOf(settings);
    }

    /** All defaults: backend, device and strategy chosen automatically, no backend-specific settings. */
    public static BackendConfig auto() {
        return new BackendConfig(null, null, null, null);
    }

    /** This config with backend {@code n} (auto, djl or ipu; null means auto). */
    public BackendConfig withName(String n) {
        return new BackendConfig(n, device, strategy, settings);
    }

    /** This config with device {@code d} (auto, cpu, gpu, gpu:N or ipu; null means auto). */
    public BackendConfig withDevice(String d) {
        return new BackendConfig(name, d, strategy, settings);
    }

    /** This config with per-sample clipping strategy {@code s} (null means auto). */
    public BackendConfig withStrategy(String s) {
        return new BackendConfig(name, device, s, settings);
    }
}
