package org.dpsgd.kit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.SamplingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU verification kit's scripts (bench/gpu), as far as they run without a GPU and in seconds:
 * argument handling and refusals of run.sh, build-jni.sh and pack.sh; run.sh's dry run and its step
 * runner (failure naming the step, dependants skipped, at most 8 result files) on a fake kit; the
 * Fashion-MNIST subsetter against hand-made IDX files; the kit's config; GpuParity still compiling
 * against the current API; the torch peer's --device check. The slow parts (pack.sh itself with jlink,
 * the JNI build, a CPU-mode run of every step) are in bench/gpu/test-full.sh, run by hand (docs/djl.md).
 */
class GpuKitScriptsTest {
    private static final Path ROOT = findRoot();
    private static final Path GPU = ROOT.resolve("bench/gpu");

    record Result(int exit, String out) {}

    private static Path findRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("bench/gpu/run.sh"))) return d;
        }
        throw new IllegalStateException(
                "bench/gpu/run.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static boolean onPath(String tool) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    static Result run(Map<String, String> env, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().remove("OUT");
            pb.environment().remove("DPSGD_KIT_CPU");
            pb.environment().putAll(env);
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running: " + Arrays.toString(cmd));
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Result run(String... cmd) {
        return run(Map.of(), cmd);
    }

    // ------------------------------------------------------------------ run.sh

    @Test
    void runShRejectsBadArgumentsWithOneLineAndExit2(@TempDir Path tmp) throws IOException {
        Result unknown = run("bash", GPU.resolve("run.sh").toString(), "--bogus");
        assertEquals(2, unknown.exit(), unknown.out());
        assertTrue(unknown.out().contains("unknown argument '--bogus'"), unknown.out());

        Result noValue = run("bash", GPU.resolve("run.sh").toString(), "--out");
        assertEquals(2, noValue.exit(), noValue.out());
        assertTrue(noValue.out().contains("--out needs a folder"), noValue.out());

        Path full = Files.createDirectories(tmp.resolve("full"));
        Files.writeString(full.resolve("old.txt"), "x");
        Result notEmpty = run("bash", GPU.resolve("run.sh").toString(), "--out", full.toString());
        assertEquals(2, notEmpty.exit(), notEmpty.out());
        assertTrue(notEmpty.out().contains("is not empty"), notEmpty.out());

        Result help = run("bash", GPU.resolve("run.sh").toString(), "--help");
        assertEquals(0, help.exit(), help.out());
        assertTrue(help.out().contains("--dry-run") && help.out().contains("--cpu"), help.out());
    }

    @Test
    void dryRunOnAnIncompleteKitSaysSo(@TempDir Path tmp) throws IOException {
        Path kit = Files.createDirectories(tmp.resolve("kit"));
        Files.copy(GPU.resolve("run.sh"), kit.resolve("run.sh"));
        Result r = run(
                Map.of("KIT_WORK", tmp.resolve("work").toString()),
                "bash",
                kit.resolve("run.sh").toString(),
                "--dry-run",
                "--out",
                tmp.resolve("out").toString());
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.out().contains("the kit is incomplete"), r.out());
    }

    @Test
    void dryRunListsEveryStepWithinNineMinutes(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("cmake") && onPath("python3") && onPath("tar"), "needs cmake, python3 and tar");
        Path kit = fakeKit(tmp);
        Result r = run(
                Map.of("KIT_WORK", tmp.resolve("work").toString()),
                "bash",
                kit.resolve("run.sh").toString(),
                "--dry-run",
                "--out",
                tmp.resolve("out").toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("the kit is complete"), r.out());
        Matcher m = Pattern.compile("run.sh: {3}(\\w+) \\((\\d+)s\\)").matcher(r.out());
        List<String> steps = new ArrayList<>();
        int total = 0;
        while (m.find()) {
            steps.add(m.group(1));
            total += Integer.parseInt(m.group(2));
        }
        assertEquals(
                List.of("setup", "torch", "jni", "backends", "parity", "bench", "train", "compare"), steps, r.out());
        assertTrue(total <= 540, "the step budgets add up to " + total + " s, over 9 minutes");
        assertTrue(
                r.out().contains("resnet50-gn")
                        && r.out().contains("3x224x224")
                        && r.out().contains("32 64"),
                r.out());
    }

    @Test
    void aFailedStepIsNamedItsDependantsSkippedAndAtMostEightFilesWritten(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("cmake") && onPath("python3") && onPath("tar"), "needs cmake, python3 and tar");
        Path kit = fakeKit(tmp);
        Path out = tmp.resolve("out");
        Map<String, String> env = new HashMap<>();
        env.put("KIT_WORK", tmp.resolve("work").toString());
        env.put("KIT_TORCH_CMAKE", tmp.resolve("no-such-torch").toString());
        env.put("KIT_TORCH_LIB", tmp.resolve("no-such-torch/lib").toString());
        env.put("KIT_TORCH_VERSION", "2.11.0");
        Result r = run(env, "bash", kit.resolve("run.sh").toString(), "--cpu", "--out", out.toString());
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("step setup: ok"), r.out());
        assertTrue(r.out().contains("step torch: FAILED with exit status 2"), r.out());
        assertTrue(r.out().contains("libtorch.so not found"), r.out());
        for (String s : List.of("jni", "backends", "parity", "bench", "train")) {
            assertTrue(r.out().contains("step " + s + ": skipped"), s + " should be skipped:\n" + r.out());
        }
        String summary = Files.readString(out.resolve("summary.txt"));
        assertTrue(summary.contains("torch     failed"), summary);
        assertTrue(summary.contains("mode cpu, device cpu"), summary);
        try (Stream<Path> files = Files.list(out)) {
            long n = files.count();
            assertTrue(n >= 2 && n <= 8, n + " result files");
        }
    }

    /** A kit with the files run.sh checks and a stand-in JRE whose java only answers -version. */
    private static Path fakeKit(Path tmp) throws Exception {
        Path kit = Files.createDirectories(tmp.resolve("kit"));
        Files.copy(GPU.resolve("run.sh"), kit.resolve("run.sh"));
        Files.copy(GPU.resolve("build-jni.sh"), kit.resolve("build-jni.sh"));
        for (String f : List.of(
                "app/dpsgd-experiments.jar",
                "app/dpsgd-gpukit.jar",
                "jni-include/jni.h",
                "djl/jni-header/ai_djl_pytorch_jni_PyTorchLibrary.h",
                "djl/engines/pytorch/pytorch-native/CMakeLists.txt",
                "bench/peers/torch_peer.py",
                "config/fmnist-short.yaml",
                "data/fashion-mnist/train-images-idx3-ubyte.gz")) {
            Files.createDirectories(kit.resolve(f).getParent());
            Files.writeString(kit.resolve(f), "");
        }
        Path java = Files.createDirectories(tmp.resolve("jre-src/jre/bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'openjdk version \"17-fake\"'\n");
        assertTrue(java.toFile().setExecutable(true));
        Result tar = run(
                "tar",
                "-C",
                tmp.resolve("jre-src").toString(),
                "-czf",
                kit.resolve("jre.tar.gz").toString(),
                "jre");
        assertEquals(0, tar.exit(), tar.out());
        return kit;
    }

    // ------------------------------------------------------------------ build-jni.sh, pack.sh

    @Test
    void buildJniNamesWhatIsMissingOrWrong(@TempDir Path tmp) {
        Result none = run("bash", GPU.resolve("build-jni.sh").toString());
        assertEquals(2, none.exit(), none.out());
        assertTrue(none.out().contains("build-jni: error: missing --djl"), none.out());

        List<String> args = new ArrayList<>(List.of(
                "bash",
                GPU.resolve("build-jni.sh").toString(),
                "--djl",
                tmp.toString(),
                "--jni-header",
                tmp.toString(),
                "--java-include",
                tmp.toString(),
                "--torch-cmake",
                tmp.toString(),
                "--torch-lib",
                tmp.toString(),
                "--version",
                "2.11.0",
                "--flavor",
                "cu130",
                "--cache",
                tmp.toString()));
        Result noSources = run(args.toArray(String[]::new));
        assertEquals(2, noSources.exit(), noSources.out());
        assertTrue(noSources.out().contains("CMakeLists.txt not found"), noSources.out());

        Result unknown = run("bash", GPU.resolve("build-jni.sh").toString(), "--flavour", "cpu");
        assertEquals(2, unknown.exit(), unknown.out());
        assertTrue(unknown.out().contains("unknown argument '--flavour'"), unknown.out());
    }

    @Test
    void packRefusesWrongArgumentsBeforeDoingAnything(@TempDir Path tmp) throws IOException {
        Result usage = run("bash", GPU.resolve("pack.sh").toString(), tmp.toString());
        assertEquals(2, usage.exit(), usage.out());
        assertTrue(usage.out().contains("usage: bench/gpu/pack.sh DJL_SRC OPACUS_SRC OUT_DIR"), usage.out());

        Result noDjl = run(
                "bash",
                GPU.resolve("pack.sh").toString(),
                tmp.resolve("nope").toString(),
                tmp.toString(),
                tmp.resolve("o").toString());
        assertEquals(2, noDjl.exit(), noDjl.out());
        assertTrue(noDjl.out().contains("DJL_SRC '" + tmp.resolve("nope") + "' is not a folder"), noDjl.out());

        Result notDjl = run(
                "bash",
                GPU.resolve("pack.sh").toString(),
                tmp.toString(),
                tmp.toString(),
                tmp.resolve("o").toString());
        assertEquals(2, notDjl.exit(), notDjl.out());
        assertTrue(notDjl.out().contains("DJL_SRC must be DJL at v0.36.0"), notDjl.out());
        assertTrue(Files.notExists(tmp.resolve("o")), "nothing is written when the arguments are wrong");
    }

    // ------------------------------------------------------------------ idx_subset.py

    @Test
    void idxSubsetKeepsTheFirstExamplesAndAValidHeader(@TempDir Path tmp) throws IOException {
        assumeTrue(onPath("python3"), "needs python3");
        Path src = Files.createDirectories(tmp.resolve("src"));
        int rows = 2;
        int cols = 3;
        for (String split : List.of("train", "t10k")) {
            int n = split.equals("train") ? 5 : 4;
            byte[] images = new byte[n * rows * cols];
            byte[] labels = new byte[n];
            for (int i = 0; i < images.length; i++) images[i] = (byte) (i * 7 + (split.equals("train") ? 1 : 2));
            for (int i = 0; i < n; i++) labels[i] = (byte) (i % 10);
            writeGz(src.resolve(split + "-images-idx3-ubyte.gz"), idx(0x0803, new int[] {n, rows, cols}, images));
            // labels uncompressed: the script must read plain files too
            Files.write(src.resolve(split + "-labels-idx1-ubyte"), idx(0x0801, new int[] {n}, labels));
        }
        Path dst = tmp.resolve("dst");
        Result r = run("python3", GPU.resolve("idx_subset.py").toString(), src.toString(), dst.toString(), "3", "2");
        assertEquals(0, r.exit(), r.out());
        byte[] img = readGz(dst.resolve("train-images-idx3-ubyte.gz"));
        ByteBuffer h = ByteBuffer.wrap(img);
        assertEquals(0x0803, h.getInt());
        assertEquals(3, h.getInt());
        assertEquals(rows, h.getInt());
        assertEquals(cols, h.getInt());
        assertEquals(16 + 3 * rows * cols, img.length);
        for (int i = 0; i < 3 * rows * cols; i++) assertEquals((byte) (i * 7 + 1), img[16 + i], "pixel " + i);
        byte[] lab = readGz(dst.resolve("t10k-labels-idx1-ubyte.gz"));
        assertEquals(8 + 2, lab.length);
        assertEquals(0, lab[8]);
        assertEquals(1, lab[9]);

        Result tooMany = run(
                "python3",
                GPU.resolve("idx_subset.py").toString(),
                src.toString(),
                tmp.resolve("x").toString(),
                "6",
                "1");
        assertEquals(1, tooMany.exit(), tooMany.out());
        assertTrue(tooMany.out().contains("has 5 examples, 6 asked"), tooMany.out());
    }

    private static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    private static void writeGz(Path p, byte[] data) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(p))) {
            o.write(data);
        }
    }

    private static byte[] readGz(Path p) throws IOException {
        try (var in = new GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        }
    }

    // ------------------------------------------------------------------ the config, GpuParity, the peer's --device

    @Test
    void theKitConfigLoadsAndIsPrivate() throws IOException {
        ExperimentConfig c = ConfigLoader.load(GPU.resolve("fmnist-short.yaml"));
        assertEquals("fmnist-cnn", c.model().name());
        assertEquals(SamplingMode.POISSON, c.privacy().sampling());
        assertEquals(NoiseMode.SECURE, c.privacy().noise());
        assertEquals(3.0, c.privacy().targetEpsilon());
    }

    @Test
    void gpuParityCompilesAgainstTheCurrentApi(@TempDir Path tmp) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assumeTrue(javac != null, "needs a JDK");
        List<String> args = new ArrayList<>(
                List.of("--release", "17", "-d", tmp.toString(), "-cp", System.getProperty("java.class.path")));
        try (Stream<Path> s = Files.list(GPU.resolve("java/org/dpsgd/kit"))) {
            s.filter(p -> p.toString().endsWith(".java")).forEach(p -> args.add(p.toString()));
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, args.toArray(String[]::new));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        assertTrue(Files.isRegularFile(tmp.resolve("org/dpsgd/kit/GpuParity.class")));
    }

    @Test
    void torchPeerRefusesAnUnknownDeviceBeforeImportingTorch() {
        assumeTrue(onPath("python3"), "needs python3");
        Result r = run(
                Map.of("TORCH_PEER_DEVICE", "tpu"),
                "python3",
                ROOT.resolve("bench/peers/torch_peer.py").toString(),
                "--model",
                "small-cnn",
                "--check");
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.out().contains("torch_peer: error: --device must be cpu, cuda or cuda:N, got 'tpu'"), r.out());
    }
}
