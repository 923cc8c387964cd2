package org.dpsgd.backend;

import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.model.Shape;

/**
 * A backend's optional planning capability ({@link BackendProvider#planner()}): how a config would be laid out on the
 * backend's hardware, computed on the host without that hardware ({@code dpsgd ipu plan}). The command reaches the
 * backend through this interface, so that it depends on the SPI and not on the backend's module.
 */
@FunctionalInterface
public interface DevicePlanner {
    /**
     * The plan of {@code config} as text lines: the batch layout, the memory estimate, and a pipeline split when one
     * device is not enough (or when {@code stages} asks for one).
     *
     * @param input per-sample shape, or null to infer it from {@code data.format}
     * @param classes class count, or null to infer it
     * @param stages pipeline stages to plan, or null for a split only when the model does not fit one device
     */
    String plan(ExperimentConfig config, Shape input, Integer classes, Integer stages);
}
