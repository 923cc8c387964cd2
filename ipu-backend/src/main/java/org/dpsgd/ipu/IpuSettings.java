package org.dpsgd.ipu;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.ipu.IpuMemoryPlanner.Precision;

/**
 * The IPU keys of the config's {@code backend.settings} (all strings there), validated:
 * {@code replicas} (1), {@code precision} (fp32 | fp16; fp16 keeps fp32 master weights and accumulator),
 * {@code stochastic_rounding} (true; fp16 only), {@code available_memory_proportion} (0.6; PopLibs
 * convolution/matmul option), {@code executable_cache} (directory for compiled executables; empty = none),
 * {@code max_calls} (0 = as many device calls as each sampled batch needs; N = always N calls),
 * {@code multiplicity} (1; the augmentation multiplicity K the graph is compiled for: set it to
 * data.augmentation.multiplicity when that is above 1, since the SPI hands it over only with each batch),
 * {@code loss_scale} (fp16: a static power of two, default 128; fp32: 1), {@code memory_check} (true:
 * refuse at start-up a layout the memory planner says does not fit one IPU; false: try anyway).
 */
public record IpuSettings(
        int replicas,
        Precision precision,
        boolean stochasticRounding,
        double availableMemoryProportion,
        String executableCache,
        int maxCalls,
        int lossScale,
        boolean memoryCheck) {
    static final Set<String> KEYS = Set.of(
            "replicas",
            "precision",
            "stochastic_rounding",
            "available_memory_proportion",
            "executable_cache",
            "max_calls",
            // Read by the trainer for every backend (NoisePrefetch); accepted here, nothing of the IPU's depends on it.
            "noise_prefetch",
            // Read by the trainer for every backend (SlotInvarianceCheck) before a private run's first step.
            "slot_invariance",
            "multiplicity",
            "loss_scale",
            "memory_check");
    /** Graphcore's static loss scale for fp16 ResNet-50 training. */
    static final int DEFAULT_FP16_LOSS_SCALE = 128;
    /** Keys other backends own; ignored here so one config can name settings for both. */
    static final Set<String> OTHER_BACKENDS =
            Set.of("threads", "interop_threads", "omp_wait_policy", "strategy", "dtype", "seed");

    public IpuSettings {
        if (replicas <= 0) throw new IllegalArgumentException("backend.settings.replicas must be > 0, got " + replicas);
        if (Integer.bitCount(replicas) != 1) {
            int below = Integer.highestOneBit(replicas);
            throw new IllegalArgumentException(
                    "backend.settings.replicas must be a power of two (Poplar offers IPU groups of 1, 2, 4, 8, ...), got "
                            + replicas + "; use " + below + " or " + below * 2);
        }
        if (precision == null) precision = Precision.FP32;
        if (lossScale <= 0) lossScale = precision == Precision.FP16 ? DEFAULT_FP16_LOSS_SCALE : 1;
        if (precision == Precision.FP32 && lossScale != 1) {
            throw new IllegalArgumentException(
                    "backend.settings.loss_scale is for fp16 (fp32 needs none), got " + lossScale + " with fp32");
        }
        if (Integer.bitCount(lossScale) != 1 || lossScale > 32768) {
            throw new IllegalArgumentException(
                    "backend.settings.loss_scale must be a power of two in [1, 32768] (scaling is then exact), got "
                            + lossScale);
        }
        if (!(availableMemoryProportion > 0 && availableMemoryProportion <= 1)) {
            throw new IllegalArgumentException(
                    "backend.settings.available_memory_proportion must be in (0, 1], got " + availableMemoryProportion);
        }
        if (executableCache == null) executableCache = "";
        if (executableCache.contains("\n"))
            throw new IllegalArgumentException("backend.settings.executable_cache must be one line");
        if (maxCalls < 0)
            throw new IllegalArgumentException(
                    "backend.settings.max_calls must be >= 0 (0 = as many as needed), got " + maxCalls);
    }

    public static IpuSettings defaults() {
        return new IpuSettings(1, Precision.FP32, true, 0.6, "", 0, 1, true);
    }

    public static IpuSettings parse(Map<String, String> settings) {
        for (String k : settings.keySet()) {
            if (!KEYS.contains(k) && !OTHER_BACKENDS.contains(k)) {
                throw new IllegalArgumentException("unknown IPU backend setting '" + k + "'; known: "
                        + String.join(", ", KEYS.stream().sorted().toList()));
            }
        }
        return new IpuSettings(
                integer(settings, "replicas", 1),
                Precision.parse(settings.getOrDefault("precision", "fp32").toLowerCase(Locale.ROOT)),
                bool(settings, "stochastic_rounding", true),
                real(settings, "available_memory_proportion", 0.6),
                settings.getOrDefault("executable_cache", ""),
                integer(settings, "max_calls", 0),
                integer(settings, "loss_scale", 0),
                bool(settings, "memory_check", true));
    }

    private static int integer(Map<String, String> s, String key, int fallback) {
        String v = s.get(key);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend.settings." + key + " must be an integer, got '" + v + "'", e);
        }
    }

    private static double real(Map<String, String> s, String key, double fallback) {
        String v = s.get(key);
        if (v == null) return fallback;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend.settings." + key + " must be a number, got '" + v + "'", e);
        }
    }

    private static boolean bool(Map<String, String> s, String key, boolean fallback) {
        String v = s.get(key);
        if (v == null) return fallback;
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default ->
                throw new IllegalArgumentException(
                        "backend.settings." + key + " must be true or false, got '" + v + "'");
        };
    }

    /**
     * The option text the native session parses (native/src/SessionOptions.cpp). The SPI path always
     * uses {@code update=host}: noise and the optimizer stay in common/, identical on every backend.
     */
    public String toNativeOptions(BatchLayout layout, int multiplicity) {
        return toNativeOptions(layout, multiplicity, false, new int[0]);
    }

    /**
     * @param ipuModel run on Poplar's IPU Model simulator (DPSGD_IPU_MODEL=1)
     * @param frozen indices (Network.parameters() order) of the frozen parameter tensors
     */
    public String toNativeOptions(BatchLayout layout, int multiplicity, boolean ipuModel, int[] frozen) {
        return toNativeOptions(layout, multiplicity, ipuModel, frozen, null);
    }

    /**
     * @param instance this process's poprun instance when there are several (null: one instance); its
     *     replicas must be {@code replicas}
     */
    String toNativeOptions(
            BatchLayout layout, int multiplicity, boolean ipuModel, int[] frozen, PoprunInstance instance) {
        if (layout.replicas() != replicas) {
            throw new IllegalArgumentException(
                    "layout has " + layout.replicas() + " replicas but backend.settings.replicas is " + replicas);
        }
        StringBuilder sb = new StringBuilder();
        sb.append("replicas=").append(replicas).append('\n');
        sb.append("micro_batch_size=").append(layout.microBatchSize()).append('\n');
        sb.append("accumulation=").append(layout.accumulation()).append('\n');
        sb.append("multiplicity=").append(multiplicity).append('\n');
        sb.append("precision=")
                .append(precision == Precision.FP16 ? "fp16" : "fp32")
                .append('\n');
        sb.append("stochastic_rounding=").append(stochasticRounding).append('\n');
        sb.append("available_memory_proportion=")
                .append(availableMemoryProportion)
                .append('\n');
        sb.append("loss_scale=").append(lossScale).append('\n');
        if (frozen.length > 0) {
            sb.append("frozen=")
                    .append(java.util.Arrays.stream(frozen)
                            .mapToObj(Integer::toString)
                            .collect(java.util.stream.Collectors.joining(",")))
                    .append('\n');
        }
        if (!executableCache.isEmpty())
            sb.append("executable_cache=").append(executableCache).append('\n');
        sb.append("update=host\n");
        if (ipuModel) sb.append("ipu_model=true\n");
        if (instance != null && instance.instances() > 1) {
            if (instance.localReplicas() != replicas)
                throw new IllegalArgumentException("backend.settings.replicas is " + replicas + " but poprun gives "
                        + "this instance " + instance.localReplicas() + " replicas; set backend.settings.replicas="
                        + instance.localReplicas() + " (poprun --num-replicas / --num-instances)");
            if (ipuModel)
                throw new IllegalArgumentException("the IPU Model (DPSGD_IPU_MODEL=1) simulates one process's IPUs; "
                        + "it cannot run under poprun with several instances");
            sb.append("instances=").append(instance.instances()).append('\n');
            sb.append("instance_index=").append(instance.index()).append('\n');
        }
        return sb.toString();
    }
}
