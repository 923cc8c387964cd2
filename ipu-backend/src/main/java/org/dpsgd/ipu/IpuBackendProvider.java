package org.dpsgd.ipu;

import java.util.List;
import java.util.Optional;
import org.dpsgd.UserError;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BackendProvider;
import org.dpsgd.backend.DevicePlanner;
import org.dpsgd.backend.SettingSpec;

/** ServiceLoader entry of the Graphcore IPU backend. Ranked above DJL so {@code backend: auto} prefers IPUs. */
public final class IpuBackendProvider implements BackendProvider {
    public static final String NAME = "ipu";
    public static final int RANK = 100;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return RANK;
    }

    @Override
    public Availability availability() {
        try {
            return IpuAvailability.ofThisMachine();
        } catch (Throwable t) { // availability() must never throw
            return Availability.no("IPU availability check failed: " + t);
        }
    }

    /**
     * The keys {@link IpuSettings} and {@link IpuBackend} read beyond the common replicas and max_calls
     * (IpuBackendProviderTest checks the two lists agree); ranges that depend on other keys stay in IpuSettings.
     */
    static final List<SettingSpec> SETTINGS = List.of(
            SettingSpec.choice(
                    "precision",
                    "fp32",
                    List.of("fp32", "fp16"),
                    "arithmetic on the IPU; fp16 keeps fp32 master weights and accumulator"),
            SettingSpec.of(
                    "stochastic_rounding", SettingSpec.Type.BOOLEAN, "true", "stochastic rounding of fp16 results"),
            SettingSpec.of(
                    "available_memory_proportion",
                    SettingSpec.Type.NUMBER,
                    "0.6",
                    "PopLibs convolution/matmul option, in (0, 1]"),
            SettingSpec.of(
                    "executable_cache",
                    SettingSpec.Type.TEXT,
                    "",
                    "directory for compiled Poplar executables (empty = none)"),
            SettingSpec.of(
                    "multiplicity",
                    SettingSpec.Type.POSITIVE_INTEGER,
                    "1",
                    "augmentation multiplicity the graph is compiled for (set to data.augmentation.multiplicity)"),
            SettingSpec.of(
                    "loss_scale",
                    SettingSpec.Type.NON_NEGATIVE_INTEGER,
                    "0",
                    "static loss scale, a power of two (0 = 128 for fp16, 1 for fp32)"),
            SettingSpec.of(
                    "memory_check",
                    SettingSpec.Type.BOOLEAN,
                    "true",
                    "refuse at start-up a layout the memory planner says does not fit one IPU"));

    @Override
    public List<SettingSpec> settings() {
        return SETTINGS;
    }

    /** {@code dpsgd ipu plan}: the layout, memory estimate and pipeline split, computed without an IPU. */
    @Override
    public Optional<DevicePlanner> planner() {
        return Optional.of(IpuPlanReport::render);
    }

    @Override
    public Backend open(BackendOptions options) {
        String device = options.device();
        if (!device.equals("auto") && !device.equals("ipu")) {
            throw new IllegalArgumentException("the ipu backend runs on device 'ipu' (or auto), not '" + device
                    + "'; use backend djl for " + device);
        }
        Availability a = availability();
        if (!a.available()) throw new UserError("backend 'ipu' is unavailable: " + a.reason());
        return new IpuBackend(
                IpuSettings.parse(options.settings()),
                a.reason(),
                PoprunInstance.fromEnvironment(System.getenv()).orElse(null));
    }
}
