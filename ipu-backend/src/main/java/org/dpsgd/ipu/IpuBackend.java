package org.dpsgd.ipu;

import java.util.Map;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;

/** The IPU backend once opened: one replicated Poplar graph per created model. */
final class IpuBackend implements Backend {
    private final IpuSettings settings;
    private final String deviceDetail;

    IpuBackend(IpuSettings settings, String deviceDetail) {
        this.settings = settings;
        this.deviceDetail = deviceDetail;
    }

    @Override public String name() { return IpuBackendProvider.NAME; }

    @Override public boolean computesOnHostCores() {
        return false;
    }

    @Override public String device() {
        return "ipu x" + settings.replicas() + " (" + deviceDetail + ")";
    }

    @Override public Map<String, String> versions() {
        String sdk = System.getenv("POPLAR_SDK_ENABLED");
        return Map.of("poplar_sdk", sdk == null ? "unknown" : sdk, "javacpp", String.valueOf(org.bytedeco.javacpp.Loader.class.getPackage().getImplementationVersion()));
    }

    /** NanoBatch: the requested micro-batch size and accumulation, over the configured replicas. */
    @Override public BatchLayout layoutFor(Network network, BatchLayout requested) {
        return new BatchLayout(requested.microBatchSize(), requested.accumulation(), settings.replicas());
    }

    @Override public TrainableModel createModel(Network network, ModelOptions options) {
        checkSupported(network, options);
        int multiplicity = multiplicity(options);
        BatchLayout layout = layoutFor(network, options.layout());
        String spec = NetworkSpecWriter.write(network);
        String nativeOptions = settings.toNativeOptions(layout, multiplicity, IpuAvailability.useIpuModel(System.getenv()));
        IpuSessionNative session;
        try {
            session = new IpuSessionNative(spec, nativeOptions);
        } catch (RuntimeException e) {
            throw new IllegalStateException("building the IPU graph for " + network.name() + " failed: " + e.getMessage(), e);
        }
        return new IpuTrainableModel(network, layout, multiplicity, session);
    }

    static int multiplicity(ModelOptions options) {
        String v = options.settings().getOrDefault("multiplicity", "1");
        try {
            int k = Integer.parseInt(v.trim());
            if (k > 0) return k;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("backend.settings.multiplicity must be an integer > 0, got '" + v + "'");
    }

    /** Refuses what the native graph does not implement rather than training something else. */
    static void checkSupported(Network network, ModelOptions options) {
        String s = options.strategy();
        if (!s.equals("auto") && !s.equals("microbatch") && !s.equals("nanobatch")) {
            throw new IllegalArgumentException("the ipu backend computes per-sample gradients with micro-batches (strategy auto, microbatch "
                    + "or nanobatch); strategy '" + s + "' is a djl strategy");
        }
        if (!options.frozenPrefixes().isEmpty()) {
            throw new IllegalArgumentException("the ipu backend does not support frozen layers yet (" + options.frozenPrefixes()
                    + "); train all layers or use backend djl");
        }
        checkLayers(network.layers());
    }

    private static void checkLayers(java.util.List<Layer> layers) {
        for (Layer l : layers) {
            if (l instanceof Layer.Conv2d c && c.weightStandardized()) {
                throw new IllegalArgumentException("the ipu backend does not implement weight standardisation (layer " + c.name()
                        + "); set model.weight_standardization: false or use backend djl");
            }
            if (l instanceof Layer.Residual r) {
                checkLayers(r.main());
                checkLayers(r.shortcut());
            }
        }
    }

    @Override public void close() {}
}
