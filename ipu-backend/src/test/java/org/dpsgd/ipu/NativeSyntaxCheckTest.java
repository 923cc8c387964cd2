package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * CI's compile check of the Poplar code: {@code g++ -fsyntax-only} of native/src/GraphBuilder.cpp and
 * IpuSession.cpp against native/test/standin, a declarations-only stand-in of exactly the Poplar,
 * PopLibs and GCL API that native/src uses, written from the public documentation (a compile check,
 * not an implementation: nothing links or runs). Mutated copies of the sources with a deliberately
 * wrong call must be rejected, so the check is known to bite. Skipped, saying why, without g++.
 */
class NativeSyntaxCheckTest {
    private static final Path NATIVE = Path.of("..", "native").toAbsolutePath().normalize();
    private static final Path STANDIN = NATIVE.resolve("test/standin");

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"GraphBuilder.cpp", "IpuSession.cpp"})
    void poplarSourcesCompileAgainstTheDocumentedApi(String source) throws Exception {
        Result r = syntaxCheck(NATIVE.resolve("src").resolve(source));
        assertEquals(
                0,
                r.code(),
                source + " does not compile against the documented Poplar/PopLibs/GCL API:\n" + r.output());
    }

    static Stream<Arguments> wrongCalls() {
        return Stream.of(
                // arguments in the wrong order: the program before the transpose flag
                Arguments.of(
                        "GraphBuilder.cpp",
                        "/*transposeAndFlipWeights=*/false, prog",
                        "prog, /*transposeAndFlipWeights=*/false",
                        "convolution"),
                // a misspelt PopLibs function (British spelling is Poplar's)
                Arguments.of(
                        "GraphBuilder.cpp",
                        "popnn::gn::groupNormalise(",
                        "popnn::gn::groupNormalize(",
                        "groupNormalize"),
                // a reduction without its dimensions
                Arguments.of(
                        "IpuSession.cpp",
                        "g.reshape({m, n / c, c}), poplar::FLOAT, {2},",
                        "g.reshape({m, n / c, c}), poplar::FLOAT,",
                        "reduce"),
                // a replicated stream's callback without the replica index type
                Arguments.of(
                        "IpuSession.cpp",
                        "connectStreamToCallback(\"inputs\", r,",
                        "connectStreamToCallback(\"inputs\", &r,",
                        "connectStreamToCallback"),
                // a missing include: CSRFunctions.hpp declares setStochasticRounding
                Arguments.of("IpuSession.cpp", "#include <poplar/CSRFunctions.hpp>", "", "setStochasticRounding"));
    }

    @ParameterizedTest(name = "{0}: {3}")
    @MethodSource("wrongCalls")
    void aDeliberatelyWrongCallFailsTheCheck(String source, String original, String mutated, String expectedInError)
            throws Exception {
        String text = Files.readString(NATIVE.resolve("src").resolve(source));
        assertTrue(text.contains(original), "the mutation target is gone from " + source + ": " + original);
        Path copy = dir.resolve(source);
        // The copy sits outside src/, so its own directory's headers must be reachable: -I src is added below.
        Files.writeString(copy, text.replace(original, mutated));
        Result r = syntaxCheck(copy);
        assertNotEquals(0, r.code(), "the stand-in accepted a wrong call (" + mutated + ")");
        assertTrue(
                r.output().contains(expectedInError), "the error should name " + expectedInError + ":\n" + r.output());
    }

    /**
     * Where real PopLibs/GCL headers are at hand (DPSGD_POPLIBS_INCLUDE: e.g. graphcore/poplibs' include
     * folder, or an SDK's include folder), every function the stand-in declares must be declared in the real
     * header of the same path, so the stand-in cannot drift into declaring things that do not exist or live
     * elsewhere. Skipped without it (CI has no SDK).
     */
    @org.junit.jupiter.api.Test
    void standInFunctionsExistInTheRealHeadersOfTheSamePath() throws Exception {
        String real = System.getenv("DPSGD_POPLIBS_INCLUDE");
        assumeTrue(
                real != null && Files.isDirectory(Path.of(real)),
                "DPSGD_POPLIBS_INCLUDE not set: real-header comparison skipped");
        java.util.regex.Pattern decl = java.util.regex.Pattern.compile(
                "^(?:poplar::Tensor|void|std::pair<poplar::Tensor, poplar::Tensor>|poplar::program::Program|ConvParams)\\s+(\\w+)\\(",
                java.util.regex.Pattern.MULTILINE);
        int checked = 0;
        List<String> missing = new ArrayList<>();
        for (String lib : List.of("poplin", "popnn", "popops", "poprand", "poputil", "gcl")) {
            Path dir = STANDIN.resolve(lib);
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> files = Files.list(dir)) {
                for (Path header : files.toList()) {
                    Path counterpart = Path.of(real, lib, header.getFileName().toString());
                    if (!Files.isRegularFile(counterpart)) continue; // e.g. gcl/ in a PopLibs checkout
                    String realText = Files.readString(counterpart);
                    java.util.regex.Matcher mt = decl.matcher(Files.readString(header));
                    while (mt.find()) {
                        checked++;
                        if (!java.util.regex.Pattern.compile("\\b" + mt.group(1) + "\\s*\\(")
                                .matcher(realText)
                                .find()) {
                            missing.add(lib + "/" + header.getFileName() + ": " + mt.group(1));
                        }
                    }
                }
            }
        }
        assertTrue(checked > 20, "only " + checked + " declarations compared");
        assertEquals(List.of(), missing, "stand-in functions not in the real headers of the same path");
    }

    private static Result syntaxCheck(Path source) throws Exception {
        assumeTrue(
                IpuAvailability.onPath("g++"),
                "g++ not on PATH: the native syntax check is skipped (apt-get install g++)");
        List<String> cmd = new ArrayList<>(List.of(
                "g++",
                "-std=c++17",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fsyntax-only",
                "-I" + STANDIN,
                "-I" + NATIVE.resolve("include"),
                "-I" + NATIVE.resolve("src")));
        cmd.add(source.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "g++ timed out: " + cmd);
        return new Result(p.exitValue(), out);
    }

    record Result(int code, String output) {}
}
