package org.dpsgd.ipu;

import org.dpsgd.backend.Availability;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BackendProvider;

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

    @Override
    public Backend open(BackendOptions options) {
        String device = options.device();
        if (!device.equals("auto") && !device.equals("ipu")) {
            throw new IllegalArgumentException("the ipu backend runs on device 'ipu' (or auto), not '" + device
                    + "'; use backend djl for " + device);
        }
        Availability a = availability();
        if (!a.available()) throw new IllegalStateException("backend 'ipu' is unavailable: " + a.reason());
        return new IpuBackend(IpuSettings.parse(options.settings()), a.reason());
    }
}
