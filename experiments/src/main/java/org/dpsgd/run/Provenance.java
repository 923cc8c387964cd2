package org.dpsgd.run;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Where and with what a run ran: host, CPUs, OS, Java, the backend's library versions, git commit. */
public final class Provenance {
    private Provenance() {}

    public static Map<String, Object> collect(Map<String, String> backendVersions) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("host", hostName());
        p.put("cpus", Runtime.getRuntime().availableProcessors());
        p.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        p.put(
                "os",
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"));
        Map<String, String> versions = new LinkedHashMap<>();
        versions.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        String dpsgd = Provenance.class.getPackage().getImplementationVersion();
        versions.put("dpsgd", dpsgd == null ? "0.1.0-SNAPSHOT" : dpsgd);
        if (backendVersions != null) versions.putAll(backendVersions);
        p.put("versions", versions);
        // Which ziggurat fast path drew the secure noise (vector or scalar: the same values, not the same speed).
        p.put("noise_sampler", org.dpsgd.noise.SamplerPath.description());
        gitCommit(Path.of("").toAbsolutePath())
                .or(() -> codeLocation().flatMap(Provenance::gitCommit))
                .ifPresent(c -> p.put("git_commit", c));
        return p;
    }

    /** Where this code was loaded from (the jar or classes folder), to find the checkout when run elsewhere. */
    static Optional<Path> codeLocation() {
        try {
            return Optional.of(Path.of(Provenance.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI())
                    .toAbsolutePath());
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) return env;
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Reads the commit from .git (HEAD, loose ref or packed-refs) without running git. */
    static Optional<String> gitCommit(Path from) {
        for (Path d = from; d != null; d = d.getParent()) {
            Path git = d.resolve(".git");
            if (!Files.isDirectory(git)) continue;
            try {
                String head = Files.readString(git.resolve("HEAD"), StandardCharsets.UTF_8)
                        .trim();
                if (!head.startsWith("ref: ")) return Optional.of(head);
                String ref = head.substring(5).trim();
                Path loose = git.resolve(ref);
                if (Files.isRegularFile(loose))
                    return Optional.of(
                            Files.readString(loose, StandardCharsets.UTF_8).trim());
                Path packed = git.resolve("packed-refs");
                if (Files.isRegularFile(packed)) {
                    for (String line : Files.readAllLines(packed, StandardCharsets.UTF_8)) {
                        if (line.endsWith(" " + ref)) return Optional.of(line.substring(0, line.indexOf(' ')));
                    }
                }
            } catch (IOException e) {
                return Optional.empty();
            }
            return Optional.empty();
        }
        return Optional.empty();
    }
}
