package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * native/CMakeLists.txt's SDK branch, configured (not built) against a fake SDK prefix whose CMake
 * packages import empty targets, as the Poplar SDK's poplar and poplibs packages do: the library links
 * PopLibs and GCL by target (GCL found as a library when the SDK has no CMake package for it), and
 * the executable cache key's library version carries a hash of the graph sources. Skipped without cmake.
 */
class NativeCMakeTest {
    private static final Path NATIVE = Path.of("..", "native").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void sdkBranchLinksByTargetsAndVersionsTheGraph() throws Exception {
        assumeTrue(
                IpuAvailability.onPath("cmake") && IpuAvailability.onPath("g++"),
                "cmake or g++ not on PATH: CMake configuration check skipped");
        Path sdk = dir.resolve("sdk");
        Files.createDirectories(sdk.resolve("lib/cmake/poplar"));
        Files.createDirectories(sdk.resolve("lib/cmake/poplibs"));
        Files.writeString(
                sdk.resolve("lib/cmake/poplar/poplar-config.cmake"), "add_library(poplar INTERFACE IMPORTED)\n");
        Files.writeString(
                sdk.resolve("lib/cmake/poplibs/poplibs-config.cmake"),
                "foreach(t poputil popops poprand poplin popnn)\n  add_library(${t} INTERFACE IMPORTED)\nendforeach()\n");
        Files.writeString(sdk.resolve("lib/libgcl.so"), "");
        Path build = dir.resolve("build");
        ProcessBuilder pb = new ProcessBuilder(
                        "cmake", "-S", NATIVE.toString(), "-B", build.toString(), "-DCMAKE_PREFIX_PATH=" + sdk)
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("POPLAR_SDK_ENABLED", sdk.toString());
        env.put("LIBRARY_PATH", sdk.resolve("lib").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "cmake timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(!out.contains("Poplar SDK not found"), out);
        String link = Files.readString(build.resolve("CMakeFiles/dpsgd_ipu.dir/link.txt"));
        assertTrue(
                link.contains(sdk.resolve("lib/libgcl.so").toString()),
                "GCL linked through its imported target's location: " + link);
        assertTrue(!link.contains(" -lpopops") && !link.contains(" -lgcl"), "no bare library names: " + link);
        String flags = Files.readString(build.resolve("CMakeFiles/dpsgd_ipu.dir/flags.make"));
        assertTrue(
                Pattern.compile("DPSGD_IPU_VERSION=\\\\\"0\\.1\\.0\\+[0-9a-f]{64}\\\\\"")
                        .matcher(flags)
                        .find(),
                flags);
    }
}
