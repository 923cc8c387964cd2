package org.dpsgd.ipu;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.dpsgd.backend.Availability;

/**
 * Decides whether the IPU backend can run, in order: is a Poplar SDK enabled, does the native library
 * load, is an IPU attached. Each "no" names the first missing piece and how to supply it.
 */
final class IpuAvailability {
    static final String NO_SDK = "Poplar SDK not found (POPLAR_SDK_ENABLED unset, no popc on PATH)";
    static final String NO_DEVICE = "no IPU device attached (gc-info/gc-monitor reports none)";
    /** Environment switch for Poplar's IPU Model simulator (testing the graph on an SDK machine without IPUs). */
    static final String IPU_MODEL_ENV = "DPSGD_IPU_MODEL";

    private IpuAvailability() {}

    /**
     * @param nativeLoad loads the JNI library; returns null on success, else the failure message
     * @param deviceCount IPUs the Poplar device manager sees (only called once the library loaded)
     * @param attachError the device manager's last error, if any
     */
    static Availability check(
            Map<String, String> env,
            Predicate<String> onPath,
            Supplier<String> nativeLoad,
            IntSupplier deviceCount,
            Supplier<String> attachError) {
        String sdk = env.get("POPLAR_SDK_ENABLED");
        boolean sdkEnabled = sdk != null && !sdk.isBlank();
        if (!sdkEnabled && !onPath.test("popc")) return Availability.no(NO_SDK);
        String loadError = nativeLoad.get();
        if (loadError != null) return Availability.no("native library failed to load: " + loadError);
        if (useIpuModel(env)) {
            return Availability.yes("IPU Model simulator (" + IPU_MODEL_ENV + "=1; slow, for testing)"
                    + (sdkEnabled ? ", Poplar SDK " + sdk : ""));
        }
        int n = deviceCount.getAsInt();
        if (n <= 0) {
            String detail = attachError.get();
            return Availability.no(NO_DEVICE + (detail == null || detail.isBlank() ? "" : ": " + detail));
        }
        return Availability.yes(n + " IPU" + (n == 1 ? "" : "s") + (sdkEnabled ? ", Poplar SDK " + sdk : ""));
    }

    static boolean useIpuModel(Map<String, String> env) {
        return "1".equals(env.get(IPU_MODEL_ENV));
    }

    /** The real checks of this machine. */
    static Availability ofThisMachine() {
        return check(
                System.getenv(),
                IpuAvailability::onPath,
                IpuAvailability::loadNative,
                IpuSessionNative::deviceCount,
                IpuSessionNative::attachError);
    }

    static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, exe))) return true;
        }
        return false;
    }

    private static String loadNative() {
        try {
            org.bytedeco.javacpp.Loader.load(IpuSessionNative.class);
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError...: report, never crash availability()
            String m = t.getMessage();
            return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        }
    }
}
