package org.dpsgd.djl;

import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Library;
import com.sun.jna.Native;
import org.dpsgd.backend.BackendOptions;

/**
 * Thread settings of the PyTorch engine. Intra-op and inter-op thread counts can be set until the
 * first parallel op runs; the OpenMP wait policy is an environment variable that OpenMP reads once
 * at start-up, so it is set (via libc setenv) before the engine loads, or refused if too late.
 */
final class DjlThreads {
    private DjlThreads() {}

    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /** Applies "threads", "interop_threads" and "omp_wait_policy" from the settings; call before the engine loads. */
    static void applyBeforeEngineLoads(BackendOptions options) {
        String policy = options.setting("omp_wait_policy", null);
        if (policy != null) {
            String p = policy.toUpperCase();
            if (!p.equals("ACTIVE") && !p.equals("PASSIVE")) {
                throw new IllegalArgumentException("backend setting omp_wait_policy must be ACTIVE or PASSIVE, got '" + policy + "'");
            }
            String current = System.getenv("OMP_WAIT_POLICY");
            if (current == null || !current.equalsIgnoreCase(p)) {
                if (engineLoaded()) {
                    throw new IllegalStateException("omp_wait_policy=" + p + " must be set before the PyTorch engine loads; "
                            + "export OMP_WAIT_POLICY=" + p + " before starting the JVM instead");
                }
                Native.load("c", LibC.class).setenv("OMP_WAIT_POLICY", p, 1);
            }
        }
        String threads = options.setting("threads", null);
        if (threads != null) System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(positive(threads, "threads")));
        String interop = options.setting("interop_threads", null);
        if (interop != null) System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(positive(interop, "interop_threads")));
    }

    /** Re-applies the intra-op count after the engine loaded (PyTorch allows changing it at run time). */
    static void applyAfterEngineLoads(BackendOptions options) {
        String threads = options.setting("threads", null);
        if (threads != null) JniUtils.setNumThreads(positive(threads, "threads"));
    }

    static String describe() {
        String policy = System.getenv("OMP_WAIT_POLICY");
        return JniUtils.getNumThreads() + " threads, " + JniUtils.getNumInteropThreads() + " inter-op, OMP_WAIT_POLICY="
                + (policy == null ? "unset" : policy);
    }

    private static volatile boolean loaded;

    static void markLoaded() {
        loaded = true;
    }

    private static boolean engineLoaded() {
        return loaded;
    }

    private static int positive(String v, String key) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n <= 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend setting " + key + " must be a positive integer, got '" + v + "'");
        }
    }
}
