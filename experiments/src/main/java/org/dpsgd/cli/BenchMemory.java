package org.dpsgd.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Peak memory of this process: the kernel's resident-set high-water mark (VmHWM in
 * /proc/self/status, which covers the JVM heap and native tensors alike). Writing "5" to
 * /proc/self/clear_refs resets the mark, so each strategy can be measured on its own.
 */
final class BenchMemory {
    private BenchMemory() {}

    /** Resets the high-water mark; returns false where the kernel does not allow it. */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Peak resident set in MiB since the last reset, or NaN off Linux. */
    static double peakMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String kb = line.substring(6).trim().split("\\s+")[0];
                    return Long.parseLong(kb) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return Double.NaN;
    }
}
