package org.dpsgd.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.dpsgd.UserError;

/**
 * The PyTorch / Opacus peer of {@code dpsgd bench}: runs {@code bench/peers/torch_peer.py} (found
 * above the jar, i.e. in the checkout the jar was built in) with an interpreter that can import
 * torch and Opacus, and reads the one JSON line it prints. A peer that cannot start or fails
 * becomes an {@link IllegalStateException} carrying the peer's own one-line message (which names
 * the fix), never a stack trace.
 */
final class TorchPeer {
    static final String SCRIPT = "bench/peers/torch_peer.py";
    /** Debian's interpreter: it sees Debian's python3-torch, which a pyenv or venv python3 on PATH may not. */
    static final Path DEBIAN_PYTHON = Path.of("/usr/bin/python3");
    /** How the script starts its one-line error messages (exit status 2: bad arguments, 3: torch or Opacus missing). */
    static final String ERROR_PREFIX = "torch_peer: error: ";

    /** What the peer printed: its rows (strategy names as the peer gave them), parameter count and versions. */
    record Report(List<BenchResult> results, long parameters, Map<String, String> versions) {}

    private final String python;
    private final Path script;

    TorchPeer(String python, Path script) {
        this.python = python;
        this.script = script;
    }

    /** The interpreter and script to use: the overrides where given, else /usr/bin/python3 (or python3) and the checkout's script. */
    static TorchPeer locate(String pythonOverride, Path scriptOverride) {
        String py = pythonOverride != null
                ? pythonOverride
                : Files.isExecutable(DEBIAN_PYTHON) ? DEBIAN_PYTHON.toString() : "python3";
        Path script = scriptOverride != null ? scriptOverride : findScript();
        if (!Files.isRegularFile(script))
            throw new IllegalArgumentException("peer script " + script + " does not exist");
        return new TorchPeer(py, script);
    }

    /** {@value #SCRIPT} in the first directory above the jar (or classes folder), then above the working directory, that has it. */
    static Path findScript() {
        List<Path> starts = new ArrayList<>();
        try {
            starts.add(Path.of(TorchPeer.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI())
                    .toAbsolutePath());
        } catch (URISyntaxException | RuntimeException e) {
            // no code source (unusual class loader): fall back to the working directory
        }
        starts.add(Path.of("").toAbsolutePath());
        for (Path start : starts) {
            for (Path d = start; d != null; d = d.getParent()) {
                Path candidate = d.resolve(SCRIPT);
                if (Files.isRegularFile(candidate)) return candidate;
            }
        }
        throw new UserError(
                "cannot find " + SCRIPT + " above " + starts + "; run dpsgd from its checkout, or pass --peer-script");
    }

    /** Checks the arguments and that the peer's imports work (--check), so a missing torch shows before our own run. */
    void check(List<String> args, Map<String, String> env) throws IOException, InterruptedException {
        execute(args, "--check", env, line -> {});
    }

    /** Runs the peer with these arguments (--json is added) and extra environment variables; returns its report. */
    Report run(List<String> args, Map<String, String> env, Consumer<String> progress)
            throws IOException, InterruptedException {
        String[] err = new String[1];
        String out = execute(args, "--json", env, line -> {
            err[0] = line;
            progress.accept(line);
        });
        try {
            return parse(out);
        } catch (IllegalStateException e) {
            throw new UserError(e.getMessage() + (err[0] == null ? "" : "; its last message: " + err[0]));
        }
    }

    /** Runs the script with args and one more flag; returns its stdout; a failure becomes an IllegalStateException with the peer's message. */
    private String execute(List<String> args, String flag, Map<String, String> env, Consumer<String> progress)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(args);
        cmd.add(flag);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UserError("cannot start the peer interpreter '" + python + "' (" + e.getMessage()
                    + "); install Debian's python3-torch (apt-get install python3-torch) or pass --peer-python");
        }
        Deque<String> errTail = new ArrayDeque<>();
        Thread errReader = new Thread(
                () -> drain(p.getErrorStream(), line -> {
                    synchronized (errTail) {
                        if (errTail.size() == 20) errTail.removeFirst();
                        errTail.addLast(line);
                    }
                    if (!line.startsWith(ERROR_PREFIX)) progress.accept(line);
                }),
                "peer-stderr");
        errReader.setDaemon(true);
        errReader.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        errReader.join(5000);
        if (rc != 0) {
            String err;
            synchronized (errTail) {
                err = lastMessage(errTail);
            }
            throw new UserError(
                    "peer " + script.getFileName() + " failed (exit " + rc + ")" + (err.isEmpty() ? "" : ": " + err));
        }
        return out;
    }

    /** The peer's last non-blank stderr line, without the script's "torch_peer: error: " prefix. */
    private static String lastMessage(Deque<String> lines) {
        List<String> l = new ArrayList<>(lines);
        for (int i = l.size() - 1; i >= 0; i--) {
            String s = l.get(i).strip();
            if (!s.isEmpty()) return s.startsWith(ERROR_PREFIX) ? s.substring(ERROR_PREFIX.length()) : s;
        }
        return "";
    }

    private static void drain(InputStream in, Consumer<String> sink) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) sink.accept(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses the peer's stdout: its last line that starts with '{' is the report. */
    static Report parse(String stdout) {
        String line = null;
        for (String l : stdout.split("\\R")) {
            if (l.strip().startsWith("{")) line = l.strip();
        }
        if (line == null) throw new UserError("the peer printed no JSON line");
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(line);
        } catch (JsonProcessingException e) {
            throw new UserError("the peer's JSON line does not parse: " + e.getOriginalMessage());
        }
        JsonNode rows = j.path("results");
        if (!rows.isArray() || rows.isEmpty()) throw new UserError("the peer's JSON line has no results");
        List<BenchResult> results = new ArrayList<>();
        for (JsonNode r : rows) {
            if (!r.hasNonNull("strategy") || !r.path("median_ms").isNumber()) {
                throw new UserError("the peer's result row lacks strategy or median_ms: " + r);
            }
            double ms = r.get("median_ms").asDouble();
            double eps = r.path("examples_per_s").isNumber()
                    ? r.get("examples_per_s").asDouble()
                    : Double.NaN;
            double peak = r.path("peak_mb").isNumber() ? r.get("peak_mb").asDouble() : Double.NaN;
            results.add(new BenchResult(
                    r.get("strategy").asText(), ms, eps, Double.NaN, peak, Double.NaN, Double.NaN, Double.NaN));
        }
        Map<String, String> versions = new LinkedHashMap<>();
        j.path("versions")
                .fields()
                .forEachRemaining(e -> versions.put(
                        e.getKey(),
                        e.getValue().isNull() ? "none" : e.getValue().asText()));
        return new Report(results, j.path("parameters").asLong(-1), versions);
    }
}
