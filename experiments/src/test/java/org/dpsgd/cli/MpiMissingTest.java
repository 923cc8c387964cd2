package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dpsgd.distributed.Mpi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Asking for MPI from a dpsgd without the binding (built where mpi.h was absent) fails with one line and
 * exit code 2, whether asked by flag or by an MPI launch. The test removes the native library from a copy
 * of the distributed module's classes, so it runs on machines with and without MPI.
 */
class MpiMissingTest {
    @TempDir
    Path dir;

    private List<String> classpath;

    private List<String> classpathWithoutBinding() throws Exception {
        if (classpath != null) return classpath;
        Path classes = Path.of(
                Mpi.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path copy = dir.resolve("distributed-classes");
        if (Files.isDirectory(classes)) {
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Path to = copy.resolve(classes.relativize(p).toString());
                    if (Files.isDirectory(p)) Files.createDirectories(to);
                    else if (!p.getFileName().toString().endsWith(".so")) Files.copy(p, to);
                }
            }
        } else {
            // A jar: unpack its classes only.
            try (var jar = new java.util.jar.JarFile(classes.toFile())) {
                for (var e : java.util.Collections.list(jar.entries())) {
                    if (e.isDirectory() || !e.getName().endsWith(".class")) continue;
                    Path to = copy.resolve(e.getName());
                    Files.createDirectories(to.getParent());
                    try (var in = jar.getInputStream(e)) {
                        Files.copy(in, to);
                    }
                }
            }
        }
        List<String> cp = new ArrayList<>();
        cp.add(copy.toString());
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!Path.of(entry)
                    .toAbsolutePath()
                    .normalize()
                    .equals(classes.toAbsolutePath().normalize())) cp.add(entry);
        }
        classpath = cp;
        return cp;
    }

    private String[] run(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-Dorg.bytedeco.javacpp.cachedir="
                        + dir.resolve("javacpp-cache"), // no library extracted by an earlier run
                "-cp",
                String.join(File.pathSeparator, classpathWithoutBinding()),
                "org.dpsgd.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        for (String v : List.of("OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK", "MV2_COMM_WORLD_SIZE"))
            pb.environment().remove(v);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        return new String[] {String.valueOf(p.exitValue()), out};
    }

    @Test
    void askingForMpiWithoutTheBindingIsOneLineAndExitTwo() throws Exception {
        Path yaml = dir.resolve("tiny.yaml");
        Files.writeString(yaml, """
                name: tiny
                model: {name: small-cnn}
                data: {format: synthetic, path: 1x8x8/4, train_limit: 64}
                privacy: {clip_norm: 1.0, noise_multiplier: 1.1, delta: 1.0e-5, noise: fast-insecure}
                training: {batch_size: 16, steps: 2}
                backend: {name: djl, device: cpu}
                """);
        String[] flag = run(
                Map.of(),
                "train",
                "--distributed",
                "mpi",
                "--config",
                yaml.toString(),
                "--out",
                dir.resolve("r1").toString());
        assertEquals("2", flag[0], flag[1]);
        List<String> lines = flag[1].lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, lines.size(), flag[1]);
        assertTrue(
                lines.get(0)
                        .startsWith(
                                "error: --distributed mpi asks for MPI, but the MPI binding is not built into this dpsgd"),
                flag[1]);
        assertTrue(lines.get(0).contains("apt-get install openmpi-bin libopenmpi-dev"), flag[1]);

        String[] launched = run(
                Map.of("OMPI_COMM_WORLD_SIZE", "2"),
                "train",
                "--config",
                yaml.toString(),
                "--out",
                dir.resolve("r2").toString());
        assertEquals("2", launched[0], launched[1]);
        assertTrue(
                launched[1].contains(
                        "error: an MPI launch (OMPI_COMM_WORLD_SIZE=2) asks for MPI, but the MPI binding is not built"),
                launched[1]);
        assertTrue(
                Files.notExists(dir.resolve("r1")) && Files.notExists(dir.resolve("r2")),
                "nothing trained, no run folder");
    }
}
