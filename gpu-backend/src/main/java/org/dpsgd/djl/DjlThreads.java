package org.dpsgd.djl;

import ai.djl.pytorch.jni.JniUtils;
import com.sun.jna.Library;
import com.sun.jna.Native;
import org.dpsgd.UserError;
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

        int unsetenv(String name);
    }

    /**
     * The wait policy used when neither the omp_wait_policy setting nor the OMP_WAIT_POLICY variable
     * chooses one. Measured on a 2-core machine (docs/benchmarks.md): on an idle machine PASSIVE is
     * within the run-to-run noise of libgomp's default (spin, then sleep); with one competing busy
     * process it is about 2x faster for small-cnn and 1.2x for resnet18-gn, and spin-waiting has been
     * seen 2-15x slower on shared machines. So PASSIVE, unless the user says otherwise.
     */
    static final String DEFAULT_POLICY = "PASSIVE";

    private static volatile String appliedPolicy;

    /** Applies the default wait policy (unless the environment chose one); for code that loads the engine before any backend opens. */
    static void applyDefaultWaitPolicy() {
        applyBeforeEngineLoads(new BackendOptions("cpu", java.util.Map.of()));
    }

    /**
     * Applies "threads", "interop_threads" and "omp_wait_policy" (ACTIVE, PASSIVE, or default =
     * libgomp's own spin-then-sleep) from the settings; call before the engine loads.
     */
    static void applyBeforeEngineLoads(BackendOptions options) {
        String setting = options.setting("omp_wait_policy", null);
        String env = System.getenv("OMP_WAIT_POLICY");
        String want = policyToApply(setting, env);
        if (want != null && !engineLoaded()) {
            LibC libc = Native.load("c", LibC.class);
            if (want.equals("DEFAULT")) libc.unsetenv("OMP_WAIT_POLICY");
            else libc.setenv("OMP_WAIT_POLICY", want, 1);
            appliedPolicy = want.equals("DEFAULT") ? "unset" : want;
        } else if (setting != null && !(want.equals("DEFAULT") ? "unset" : want).equalsIgnoreCase(effectivePolicy())) {
            throw new UserError("omp_wait_policy=" + want + " must be set before the PyTorch engine loads; "
                    + "export OMP_WAIT_POLICY=" + (want.equals("DEFAULT") ? "default" : want)
                    + " before starting the JVM instead");
        }
        String threads = options.setting("threads", null);
        if (threads != null)
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(positive(threads, "threads")));
        String interop = options.setting("interop_threads", null);
        if (interop != null)
            System.setProperty(
                    "ai.djl.pytorch.num_interop_threads", Integer.toString(positive(interop, "interop_threads")));
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
                    throw new UserError("threads=" + n
                            + " cannot be applied: the PyTorch engine already runs "
                            + JniUtils.getNumThreads()
                            + " threads and cannot change them; start the JVM with -Dai.djl.pytorch.num_threads=" + n
                            + " (the ./dpsgd launcher reads DPSGD_THREADS)");
                }
            }
        }
        String interop = options.setting("interop_threads", null);
        if (interop != null) {
            int n = positive(interop, "interop_threads");
            if (JniUtils.getNumInteropThreads() != n) {
                // PyTorch fixes the inter-op pool at its first parallel work; refuse rather than ignore the setting.
                throw new UserError("interop_threads=" + n
                        + " cannot be applied: the PyTorch engine already runs " + JniUtils.getNumInteropThreads()
                        + " inter-op threads; start the JVM with -Dai.djl.pytorch.num_interop_threads=" + n);
            }
        }
    }

    static String describe() {
        return JniUtils.getNumThreads() + " threads, " + JniUtils.getNumInteropThreads() + " inter-op, OMP_WAIT_POLICY="
                + effectivePolicy();
    }

    /** The policy OpenMP saw: what this class set (the JVM's getenv does not see libc setenv), else the environment's. */
    static String effectivePolicy() {
        if (appliedPolicy != null) return appliedPolicy;
        String env = System.getenv("OMP_WAIT_POLICY");
        return env == null ? "unset" : env.toUpperCase(java.util.Locale.ROOT);
    }

    /**
     * What to set before the engine loads: the setting if given, else nothing if the environment chose
     * ACTIVE or PASSIVE, else DEFAULT (the variable removed, so libgomp spins then sleeps) if it says
     * {@code default} (libgomp itself does not know that word), else the default policy.
     */
    static String policyToApply(String setting, String env) {
        if (setting != null) return checkPolicy(setting);
        if (env != null && env.trim().equalsIgnoreCase("default")) return "DEFAULT";
        return env != null ? null : DEFAULT_POLICY;
    }

    private static String checkPolicy(String policy) {
        String p = policy.trim().toUpperCase(java.util.Locale.ROOT);
        if (!p.equals("ACTIVE") && !p.equals("PASSIVE") && !p.equals("DEFAULT")) {
            throw new IllegalArgumentException(
                    "backend setting omp_wait_policy must be ACTIVE, PASSIVE or default, got '" + policy + "'");
        }
        return p;
    }

    private static volatile boolean loaded;

    static void markLoaded() {
        loaded = true;
    }

    static boolean engineLoaded() {
        return loaded;
    }

    private static int positive(String v, String key) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n <= 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "backend setting " + key + " must be a positive integer, got '" + v + "'");
        }
    }
}
