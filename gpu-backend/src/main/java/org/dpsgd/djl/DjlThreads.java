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

    /** Checks (and where the engine allows, applies) the thread counts once the engine is loaded; refuses what cannot take effect. */
    static void applyAfterEngineLoads(BackendOptions options) {
        String threads = options.setting("threads", null);
        if (threads != null) {
            int n = positive(threads, "threads");
            if (JniUtils.getNumThreads() != n) {
                try {
                    JniUtils.setNumThreads(n);
                } catch (UnsatisfiedLinkError e) {
                    // The bundled JNI library lacks set_num_threads: the count is fixed at engine start.
                    throw new IllegalStateException("threads=" + n + " cannot be applied: the PyTorch engine already runs "
                            + JniUtils.getNumThreads() + " threads and cannot change them; start the JVM with -Dai.djl.pytorch.num_threads=" + n
                            + " (the ./dpsgd launcher reads DPSGD_THREADS)");
                }
            }
        }
        String interop = options.setting("interop_threads", null);
        if (interop != null) {
            int n = positive(interop, "interop_threads");
            if (JniUtils.getNumInteropThreads() != n) {
                // PyTorch fixes the inter-op pool at its first parallel work; refuse rather than ignore the setting.
                throw new IllegalStateException("interop_threads=" + n + " cannot be applied: the PyTorch engine already runs "
                        + JniUtils.getNumInteropThreads() + " inter-op threads; start the JVM with -Dai.djl.pytorch.num_interop_threads=" + n);
            }
        }
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
