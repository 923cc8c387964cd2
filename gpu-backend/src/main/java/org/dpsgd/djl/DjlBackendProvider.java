package org.dpsgd.djl;

import ai.djl.engine.Engine;
import java.util.List;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BackendProvider;
import org.dpsgd.backend.SettingSpec;

/** The DJL (PyTorch engine) backend: CPUs and CUDA GPUs. */
public final class DjlBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "djl";
    }

    @Override
    public int rank() {
        return 10;
    }

    /** Loads the engine (a second or two on first use) and reports the device it would use; never throws. */
    @Override
    public Availability availability() {
        try {
            DjlThreads.applyDefaultWaitPolicy(); // this probe is usually what first loads libtorch
            try {
                MklStrictMode.applyBeforeEngineLoads(DjlThreads.engineLoaded());
            } catch (org.dpsgd.UserError e) {
                // a non-strict MKL_CBWR: the engine still loads, and opening the backend refuses it in one line
            }
            Engine engine = Engine.getEngine("PyTorch");
            DjlThreads.markLoaded();
            int gpus = engine.getGpuCount();
            String device = gpus > 0
                    ? "cuda:0 (" + gpus + " GPU" + (gpus > 1 ? "s" : "") + ")"
                    : "cpu (" + ai.djl.pytorch.jni.JniUtils.getNumThreads() + " threads)";
            return Availability.yes("PyTorch " + engine.getVersion() + " on " + device);
        } catch (Throwable t) {
            String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
            return Availability.no("the DJL PyTorch engine did not load: "
                    + msg.lines().findFirst().orElse(msg)
                    + " (is pytorch-native-<flavor> on the class path, or PYTORCH_LIBRARY_PATH set?)");
        }
    }

    /** The keys DjlThreads, Precision, LossScale and DjlTrainableModel read (DjlBackendSettingsTest ties them together). */
    static final List<SettingSpec> SETTINGS = List.of(
            SettingSpec.of(
                    "threads",
                    SettingSpec.Type.POSITIVE_INTEGER,
                    "",
                    "PyTorch intra-op threads (default: the engine's; refused if it cannot take effect)"),
            SettingSpec.of(
                    "interop_threads",
                    SettingSpec.Type.POSITIVE_INTEGER,
                    "",
                    "PyTorch inter-op threads (default: the engine's; fixed once the engine has run)"),
            SettingSpec.choice(
                    "omp_wait_policy",
                    DjlThreads.DEFAULT_POLICY,
                    List.of("ACTIVE", "PASSIVE", "DEFAULT"),
                    "OpenMP wait policy, set before the engine loads (DEFAULT = libgomp's spin-then-sleep)"),
            SettingSpec.choice(
                    "malloc_retain",
                    "on",
                    List.of("on", "off"),
                    "keep freed tensor memory in the process between steps (glibc mallopt; the first backend of a"
                            + " process decides; off = glibc's defaults)"),
            SettingSpec.choice(
                    "parallel_taps",
                    "off",
                    List.of("on", "off"),
                    "book-keeping (auto): the per-layer norms and clipped sums after the backward pass on two threads"
                            + " where the CPU runs two or more intra-op threads; same bits either way (off = one"
                            + " thread; off by default: no gain measured on a quiet 2-core machine)"),
            SettingSpec.choice(
                    "graph_cuts",
                    "auto",
                    List.of("auto", "never"),
                    "book-keeping (auto): cut the autograd graph at each tapped layer output of a network without"
                            + " residual blocks and run the backward pass in segments, instead of adding a zero leaf"
                            + " there; same bits either way (never = zero leaves everywhere)"),
            SettingSpec.choice(
                    "precision",
                    "fp32",
                    List.of("fp32", "fp64", "bf16", "fp16"),
                    "compute type; bf16/fp16 keep fp32 master weights, and norms, clip factors and the clipped sum"
                            + " are float64 whatever it is (fp64 for exactness checks; docs/djl.md)"),
            SettingSpec.of(
                    "loss_scale",
                    SettingSpec.Type.NON_NEGATIVE_INTEGER,
                    "0",
                    "static loss scale, a power of two divided out before clipping (0 = 128 with fp16, else 1)"),
            SettingSpec.choice(
                    "dtype",
                    "float32",
                    List.of("float32", "fp32", "f32", "float64", "fp64", "f64", "double"),
                    "older name of precision for fp32/fp64 (setting both is refused unless they agree)"),
            SettingSpec.of(
                    "seed",
                    SettingSpec.Type.INTEGER,
                    "0",
                    "seed of the engine-side random state (dropout-free models do not use it)"));

    @Override
    public List<SettingSpec> settings() {
        return SETTINGS;
    }

    @Override
    public Backend open(BackendOptions options) {
        return new DjlBackend(options);
    }
}
