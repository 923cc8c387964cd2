package org.dpsgd.djl;

import ai.djl.engine.Engine;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BackendProvider;

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

    @Override
    public Backend open(BackendOptions options) {
        return new DjlBackend(options);
    }
}
