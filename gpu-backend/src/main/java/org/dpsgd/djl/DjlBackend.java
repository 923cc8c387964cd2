package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dpsgd.UserError;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Network;

/** An opened DJL backend on one device (cpu or a CUDA GPU). */
public final class DjlBackend implements Backend {
    private final Engine engine;
    private final Device device;
    private final BackendOptions options;
    private final String slotInvariance;

    public DjlBackend(BackendOptions options) {
        this.options = options;
        DjlThreads.applyBeforeEngineLoads(options);
        MklStrictMode.applyBeforeEngineLoads(DjlThreads.engineLoaded());
        this.engine = Engine.getEngine("PyTorch");
        DjlThreads.markLoaded();
        DjlThreads.applyAfterEngineLoads(options);
        MklStrictMode.verifyAfterEngineLoads();
        NativeHeap.apply(options);
        TapPhases.enabled(options); // a bad parallel_taps value is refused when the backend opens
        GraphCuts.enabled(options); // and a bad graph_cuts value
        this.device = parseDevice(options.device(), engine.getGpuCount());
        this.slotInvariance = device.isGpu()
                ? notProbed(options)
                : SlotInvarianceProbe.check(device, options).toString();
    }

    /** On a GPU the per-example products are the device's: the kit's GpuParity checks them ("position" lines). */
    private static String notProbed(BackendOptions options) {
        SlotInvarianceProbe.required(options); // a bad value is still refused
        return "not probed on a GPU (the GPU kit's GpuParity position lines check it)";
    }

    /** auto: first GPU if any, else cpu; gpu / gpu:N refuse when there is no such GPU rather than silently using the CPU. */
    static Device parseDevice(String spec, int gpuCount) {
        String s = spec == null ? "auto" : spec.trim().toLowerCase();
        if (s.equals("auto")) return gpuCount > 0 ? Device.gpu(0) : Device.cpu();
        if (s.equals("cpu")) return Device.cpu();
        if (s.equals("gpu") || s.equals("cuda") || s.startsWith("gpu:") || s.startsWith("cuda:")) {
            int id = 0;
            int colon = s.indexOf(':');
            if (colon >= 0) {
                try {
                    id = Integer.parseInt(s.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("device '" + spec + "': expected gpu:N with a GPU index N");
                }
            }
            if (id < 0 || id >= gpuCount) {
                throw new UserError("device '" + spec + "' requested but PyTorch sees " + gpuCount
                        + " GPU(s); use device cpu, or build with a CUDA flavour (see docs/djl.md)");
            }
            return Device.gpu(id);
        }
        throw new IllegalArgumentException(
                "unknown device '" + spec + "' for backend djl; use auto, cpu, gpu or gpu:N");
    }

    @Override
    public String name() {
        return "djl";
    }

    @Override
    public boolean computesOnHostCores() {
        return !device.isGpu();
    }

    @Override
    public String device() {
        return device.isGpu() ? "gpu:" + device.getDeviceId() : "cpu";
    }

    /** Freed tensor memory that {@link NativeHeap} keeps goes back to the kernel. */
    @Override
    public void releaseFreeMemory() {
        NativeHeap.trim();
    }

    /** Threads and OpenMP policy in force, for run provenance. */
    public String threadInfo() {
        return DjlThreads.describe();
    }

    @Override
    public Map<String, String> versions() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("djl", Engine.getDjlVersion());
        v.put("pytorch", engine.getVersion());
        v.put("threads", DjlThreads.describe());
        v.put("malloc", NativeHeap.describe());
        v.put("mkl_cbwr", MklStrictMode.describe() + (device.isGpu() ? "; the host CPU's products only" : ""));
        v.put("slot_invariance", slotInvariance);
        v.put("taps", TapPhases.describe(TapPhases.enabled(options), device));
        v.put("graph_cuts", GraphCuts.describe(GraphCuts.enabled(options)));
        return v;
    }

    /** The DJL backend runs one micro-batch per call, on one device. */
    @Override
    public BatchLayout layoutFor(Network network, BatchLayout requested) {
        return new BatchLayout(requested.microBatchSize(), 1, 1);
    }

    @Override
    public TrainableModel createModel(Network network, ModelOptions modelOptions) {
        return new DjlTrainableModel(network, modelOptions, device, options);
    }

    @Override
    public void close() {
        // Models own their NDManagers; the engine stays loaded for the life of the process.
    }
}
