package org.dpsgd.ipu;

import java.util.Map;
import java.util.function.BiFunction;
import org.dpsgd.UserError;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Network;

/** The IPU backend once opened: one replicated Poplar graph per created model. */
final class IpuBackend implements Backend {
    private final IpuSettings settings;
    private final String deviceDetail;
    private final PoprunInstance instance;
    private final BiFunction<String, String, IpuSession> sessions;

    IpuBackend(IpuSettings settings, String deviceDetail) {
        this(settings, deviceDetail, null);
    }

    /** @param instance this process's poprun instance (null: not under poprun, or one instance) */
    IpuBackend(IpuSettings settings, String deviceDetail, PoprunInstance instance) {
        this(settings, deviceDetail, instance, IpuSessionNative::new);
    }

    /**
     * @param sessions builds the native session from the network spec and the native options (the
     *     JavaCPP one; tests pass a Java stand-in to check what the model is built with)
     */
    IpuBackend(
            IpuSettings settings,
            String deviceDetail,
            PoprunInstance instance,
            BiFunction<String, String, IpuSession> sessions) {
        this.sessions = sessions;
        this.settings = settings;
        this.deviceDetail = deviceDetail;
        this.instance = instance != null && instance.instances() > 1 ? instance : null;
    }

    @Override
    public String name() {
        return IpuBackendProvider.NAME;
    }

    @Override
    public boolean computesOnHostCores() {
        return false;
    }

    @Override
    public String device() {
        String of = instance == null
                ? ""
                : " of " + instance.globalReplicas() + ", poprun instance " + instance.index() + " of "
                        + instance.instances();
        return "ipu x" + settings.replicas() + of + " (" + deviceDetail + ")";
    }

    @Override
    public Map<String, String> versions() {
        String sdk = System.getenv("POPLAR_SDK_ENABLED");
        return Map.of(
                "poplar_sdk",
                sdk == null ? "unknown" : sdk,
                "javacpp",
                String.valueOf(org.bytedeco.javacpp.Loader.class.getPackage().getImplementationVersion()));
    }

    /** NanoBatch: the requested micro-batch size and accumulation, over the configured replicas. */
    @Override
    public BatchLayout layoutFor(Network network, BatchLayout requested) {
        return new BatchLayout(requested.microBatchSize(), requested.accumulation(), settings.replicas());
    }

    @Override
    public TrainableModel createModel(Network network, ModelOptions options) {
        checkSupported(network, options);
        int multiplicity = multiplicity(options);
        BatchLayout layout = layoutFor(network, options.layout());
        checkMemory(network, layout, multiplicity);
        NormReduction.check(network);
        int[] frozen = frozenTensors(network, options);
        int[] trainable = java.util.stream.IntStream.range(
                        0, network.parameters().size())
                .filter(i -> java.util.Arrays.binarySearch(frozen, i) < 0)
                .toArray();
        if (trainable.length == 0)
            throw new IllegalArgumentException(
                    "model.freeze freezes every parameter of " + network.name() + ": nothing to train");
        String spec = NetworkSpecWriter.write(network);
        String nativeOptions = settings.toNativeOptions(
                layout, multiplicity, IpuAvailability.useIpuModel(System.getenv()), frozen, instance);
        IpuSession session;
        try {
            session = sessions.apply(spec, nativeOptions);
        } catch (RuntimeException e) {
            throw new UserError("building the IPU graph for " + network.name() + " failed: " + e.getMessage(), e);
        }
        // Several poprun instances: GCL's all-reduce in the drain spans every instance's replicas.
        GradientScope scope = instance == null ? GradientScope.PROCESS : GradientScope.RUN;
        // Stochastic rounding (fp16 only) may round either way: the coupling margin then counts u = 2^-23.
        boolean stochastic = settings.precision() == IpuMemoryPlanner.Precision.FP16 && settings.stochasticRounding();
        return new IpuTrainableModel(
                network,
                layout,
                multiplicity,
                trainable,
                session,
                scope,
                instance == null ? 1 : instance.instances(),
                stochastic);
    }

    /** Indices (ascending, Network.parameters() order) of the parameter tensors the options freeze. */
    static int[] frozenTensors(Network network, ModelOptions options) {
        var ps = network.parameters();
        for (String prefix : options.frozenPrefixes()) {
            if (ps.stream().noneMatch(p -> p.name().startsWith(prefix))) {
                throw new IllegalArgumentException(
                        "frozen prefix '" + prefix + "' matches no parameter of " + network.name());
            }
        }
        return java.util.stream.IntStream.range(0, ps.size())
                .filter(i -> options.isFrozen(ps.get(i).name()))
                .toArray();
    }

    /**
     * Refuses, before an hour of graph compilation, a layout the memory planner says does not fit one
     * IPU per replica (the graph has no recomputation and no pipelining), naming the largest that does.
     * backend.settings.memory_check: false skips this (the planner is a heuristic; Poplar's report is the truth).
     */
    void checkMemory(Network network, BatchLayout layout, int multiplicity) {
        if (!settings.memoryCheck()) return;
        IpuMemoryPlanner.Estimate e = IpuMemoryPlanner.estimate(new IpuMemoryPlanner.Request(
                network, layout.microBatchSize(), multiplicity, settings.precision(), true, false));
        if (e.verdict() != IpuMemoryPlanner.Verdict.FITS) {
            throw new IllegalArgumentException(
                    "the memory planner estimates " + network.name() + " at micro-batch " + layout.microBatchSize()
                            + " needs " + e.totalBytes() / 1_000_000 + " MB of " + e.capacityBytes() / 1_000_000
                            + " usable MB per IPU: " + e.advice()
                            + " (see dpsgd ipu plan; backend.settings.memory_check: false to try anyway)");
        }
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
            throw new IllegalArgumentException(
                    "the ipu backend computes per-sample gradients with micro-batches (strategy auto, microbatch "
                            + "or nanobatch); strategy '" + s + "' is a djl strategy");
        }
    }

    @Override
    public void close() {}
}
