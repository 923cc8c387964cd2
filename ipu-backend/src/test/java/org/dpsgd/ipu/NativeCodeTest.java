package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds the SDK-free part of native/ with g++ and checks it against the Java side: the native unit
 * tests pass, and the native spec reader re-derives, from the text NetworkSpecWriter produces, the
 * same parameters (names, shapes, flat offsets) and output shape as org.dpsgd.model.Network for
 * every zoo model. Skipped (with the reason) where no C++17 compiler is installed.
 */
class NativeCodeTest {
    private static final Path NATIVE = Path.of("..", "native").toAbsolutePath().normalize();

    @TempDir
    static Path dir;

    static Path specTool;
    static Path unitTests;

    @BeforeAll
    static void build() throws Exception {
        assumeTrue(IpuAvailability.onPath("g++"), "g++ not on PATH: native C++ tests skipped (apt-get install g++)");
        // The SDK-free core is compiled once to objects, then linked into both test programs.
        List<String> objects = new ArrayList<>();
        for (String src : List.of("NetworkSpec", "SessionOptions", "HostFeeder")) {
            Path obj = dir.resolve(src + ".o");
            compile(List.of("-c", NATIVE.resolve("src/" + src + ".cpp").toString()), obj);
            objects.add(obj.toString());
        }
        specTool = dir.resolve("spec_tool");
        unitTests = dir.resolve("native_tests");
        compile(concat(objects, NATIVE.resolve("test/spec_tool.cpp").toString()), specTool);
        compile(concat(objects, NATIVE.resolve("test/native_tests.cpp").toString()), unitTests);
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }

    private static void compile(List<String> inputs, Path out) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of("g++", "-std=c++17", "-O0", "-Wall", "-Wextra", "-Werror", "-I" + NATIVE.resolve("include")));
        cmd.addAll(inputs);
        cmd.addAll(List.of("-o", out.toString()));
        Result r = run(cmd);
        assertEquals(0, r.code, "g++ failed:\n" + r.output);
    }

    record Result(int code, String output) {}

    private static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + cmd);
        return new Result(p.exitValue(), out);
    }

    @Test
    void nativeUnitTestsPass() throws Exception {
        Result r = run(List.of(unitTests.toString()));
        assertEquals(0, r.code, r.output);
        assertTrue(r.output.contains("native tests passed"), r.output);
        // Named cases, each reported on its own line.
        long cases = r.output.lines().filter(l -> l.startsWith("[ ok ] ")).count();
        assertTrue(cases >= 8, "expected the named cases, got:\n" + r.output);
        assertTrue(r.output.contains("[ ok ] hostFeederDeliversEverySlotOnceToItsReplica"), r.output);
    }

    @Test
    void oneNativeCaseRunsByNameAndAnUnknownNameFails() throws Exception {
        Result one = run(List.of(unitTests.toString(), "normSplit"));
        assertEquals(0, one.code, one.output);
        assertEquals(1, one.output.lines().filter(l -> l.startsWith("[ ok ] ")).count(), one.output);
        Result none = run(List.of(unitTests.toString(), "noSuchCase"));
        assertEquals(1, none.code, none.output);
        assertTrue(none.output.contains("no native test case matches 'noSuchCase'"), none.output);
    }

    @Test
    void nativeReaderDerivesTheSameParametersAsJavaForEveryZooModel() throws Exception {
        record Case(String model, String stem, Shape input, int classes) {}
        List<Case> cases = List.of(
                new Case("small-cnn", "imagenet", new Shape(1, 28, 28), 10),
                new Case("fmnist-cnn", "imagenet", new Shape(1, 28, 28), 10),
                new Case("resnet18-gn", "cifar", new Shape(3, 32, 32), 10),
                new Case("resnet34-gn", "imagenet", new Shape(3, 64, 64), 100),
                new Case("resnet50-gn", "imagenet", new Shape(3, 224, 224), 1000),
                new Case("wrn16-4", "cifar", new Shape(3, 32, 32), 10));
        for (Case c : cases) {
            Network net = ModelZoo.build(ModelSpec.of(c.model()).withStem(c.stem()), c.input(), c.classes());
            Path file = dir.resolve(c.model() + ".spec");
            Files.writeString(file, NetworkSpecWriter.write(net));
            Result r = run(List.of(specTool.toString(), file.toString()));
            assertEquals(0, r.code, c.model() + ": " + r.output);
            List<String> expected = new ArrayList<>();
            expected.add("name " + net.name());
            expected.add("output " + Network.outputShape(net.layers(), net.input()));
            int[] offsets = net.parameterOffsets();
            List<ParamSpec> ps = net.parameters();
            for (int i = 0; i < ps.size(); i++) {
                String shape = Arrays.stream(ps.get(i).shape())
                        .mapToObj(Integer::toString)
                        .collect(Collectors.joining("x"));
                expected.add("param " + ps.get(i).name() + " " + shape + " " + offsets[i]);
            }
            expected.add("count " + net.parameterCount());
            assertEquals(expected, r.output.lines().toList(), c.model());
        }
    }

    /**
     * The JavaCPP annotations of IpuSessionNative against the real facade header: JavaCPP generates the
     * JNI glue (as the 'ipu' Maven profile does) and g++ must accept it. Only the Poplar-free header is
     * involved, so this runs without the SDK; linking needs libdpsgd_ipu and is not attempted.
     */
    @Test
    void javacppBindingMatchesTheNativeFacadeHeader() throws Exception {
        Path jdkInclude = Path.of(System.getProperty("java.home"), "include");
        assumeTrue(Files.isDirectory(jdkInclude), "no JDK headers under " + jdkInclude + " (a JRE?)");
        String javacpp = Path.of(org.bytedeco.javacpp.Loader.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI())
                .toString();
        String classes = Path.of(IpuSessionNative.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI())
                .toString();
        Path out = dir.resolve("jni");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Result gen = run(List.of(
                java.toString(),
                "-cp",
                javacpp,
                "org.bytedeco.javacpp.tools.Builder",
                "-cp",
                classes,
                "-d",
                out.toString(),
                "-nocompile",
                IpuSessionNative.class.getName()));
        assertEquals(0, gen.code, gen.output);
        Path jni = out.resolve("jniIpuSessionNative.cpp");
        assertTrue(Files.isRegularFile(jni), gen.output);
        String glue = Files.readString(jni);
        assertTrue(glue.contains("dpsgd::ipu::IpuSession::deviceCount()"), "static members must map to the C++ class");
        Result cc = run(List.of(
                "g++",
                "-std=c++17",
                "-fsyntax-only",
                "-I" + jdkInclude,
                "-I" + jdkInclude.resolve("linux"),
                "-I" + NATIVE.resolve("include"),
                jni.toString()));
        assertEquals(0, cc.code, "generated JNI glue does not compile against IpuSession.hpp:\n" + cc.output);
    }

    @Test
    void nativeReaderRefusesATamperedSpecWithTheLine() throws Exception {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), new Shape(1, 28, 28), 10);
        String text = NetworkSpecWriter.write(net).replace("conv conv2 16 32", "conv conv2 17 32");
        Path file = dir.resolve("bad.spec");
        Files.writeString(file, text);
        Result r = run(List.of(specTool.toString(), file.toString()));
        assertEquals(2, r.code, r.output);
        assertTrue(r.output.contains("conv2: expects 17 input channels"), r.output);
    }
}
