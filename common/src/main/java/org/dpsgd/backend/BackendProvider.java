package org.dpsgd.backend;

/**
 * Service-provider entry point of a backend, found with {@link java.util.ServiceLoader}
 * (META-INF/services/org.dpsgd.backend.BackendProvider). Cheap to construct; {@link #availability()}
 * must not throw and must say why a backend cannot run.
 */
public interface BackendProvider {
    /** Short name used in configs and on the command line: "djl", "ipu". */
    String name();

    /** Higher rank wins for {@code backend: auto} among available providers. */
    int rank();

    /**
     * Whether this backend can run on this machine and, when not, why. Must be cheap and must not throw: every
     * failure to probe is a "no" with its reason.
     */
    Availability availability();

    /**
     * The {@code backend.settings} keys this backend reads beyond {@link BackendSettings#COMMON}, with their types,
     * defaults and one-line docs. A config key that neither this table nor the common one declares is refused (or, when
     * another backend declares it, reported as ignored) before {@link #open} is called.
     */
    default java.util.List<SettingSpec> settings() {
        return java.util.List.of();
    }

    /**
     * The backend's planner, when it can plan a config's layout on its hardware without the hardware (the IPU backend
     * does); empty otherwise.
     */
    default java.util.Optional<DevicePlanner> planner() {
        return java.util.Optional.empty();
    }

    /** Opens the backend on a device ("cpu", "gpu", "gpu:1", "ipu"...). */
    Backend open(BackendOptions options);
}
