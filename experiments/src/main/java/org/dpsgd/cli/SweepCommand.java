package org.dpsgd.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.report.Csv;
import org.dpsgd.run.Progress;
import org.dpsgd.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "sweep",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a grid of configs (the cartesian product of every --set key=v1,v2,..., or with --zip the values paired",
            "by position), each in its own run folder,",
            "and writes sweep.csv (one row per run) that `dpsgd compare` reads."
        })
final class SweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    static final List<String> RESULT_COLUMNS = List.of(
            "status",
            "test_accuracy",
            "ema_test_accuracy",
            "epsilon",
            "delta",
            "examples_per_s",
            "seconds",
            "steps",
            "run_dir");

    @Parameters(index = "0", paramLabel = "CONFIG", description = "The base experiment config.")
    Path config;

    @Option(
            names = "--set",
            paramLabel = "KEY=V1,V2,...",
            required = true,
            description = "A key and its values (comma-separated); repeat for more keys. One value = a fixed override.")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--zip",
            description =
                    "Pair the i-th values of every --set (all lists equally long) instead of the cartesian product.")
    boolean zip;

    @Option(names = "--out", description = "Sweep folder (default: runs/sweep-<name>-<time>).")
    Path out;

    @Option(names = "--backend", description = "auto, djl or ipu for every run.")
    String backend;

    @Option(names = "--device", description = "cpu, gpu, gpu:N for every run.")
    String device;

    @Override
    public Integer call() {
        PrintStream stdout = CliOutput.stream(CliOutput.out(spec));
        PrintStream stderr = CliOutput.stream(CliOutput.err(spec));
        Map<String, List<String>> grid = parseGrid(sets);
        ExperimentConfig base = ConfigLoader.load(config);
        BackendSettings.checkConfig(base, backend, config.toString());
        List<Map<String, String>> points = zip ? zipped(grid) : cartesian(grid);
        // Validate every point before the first (possibly long) run starts, backend.settings included (against
        // --backend when given, else the config's backend when it names one).
        for (Map<String, String> p : points)
            BackendSettings.checkConfig(
                    ConfigLoader.applyOverrides(base, p), backend, ConfigLoader.source(config.toString(), p));
        Path root = out != null
                ? out
                : TrainCommand.defaultOut(base)
                        .resolveSibling("sweep-" + TrainCommand.defaultOut(base).getFileName());
        Path csv = root.resolve("sweep.csv");
        List<String> swept = new ArrayList<>(grid.keySet());
        List<String> header = new ArrayList<>(swept);
        header.addAll(RESULT_COLUMNS);
        try {
            Files.createDirectories(root);
            if (Files.exists(csv)) throw new IllegalArgumentException(csv + " already exists; choose another --out");
            Files.writeString(csv, Csv.line(header) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + csv + ": " + e.getMessage(), e);
        }
        int failed = 0;
        for (int i = 0; i < points.size(); i++) {
            Map<String, String> p = points.get(i);
            String name = runName(i, p);
            CliOutput.err(spec).println("sweep " + (i + 1) + "/" + points.size() + ": " + p);
            List<String> row = new ArrayList<>();
            for (String k : swept) row.add(p.get(k));
            try {
                ExperimentConfig cfg = ConfigLoader.applyOverrides(base, p);
                TrainingRun.Result r = TrainingRun.start(
                        cfg,
                        root.resolve(name),
                        new TrainingRun.Options(backend, device, stdout, stderr, Progress.forConsole(stderr), null));
                row.addAll(List.of(
                        r.status(),
                        num(r.testAccuracy()),
                        num(r.emaTestAccuracy()),
                        num(r.epsilon()),
                        num(r.delta()),
                        num(r.examplesPerSecond()),
                        num(r.trainSeconds()),
                        Long.toString(r.steps()),
                        name));
                CliOutput.err(spec).println(TrainCommand.summary(r));
            } catch (RuntimeException e) {
                failed++;
                CliOutput.err(spec).println("sweep run " + name + " failed: " + e.getMessage());
                row.addAll(List.of("failed: " + e.getMessage(), "", "", "", "", "", "", "", name));
            }
            append(csv, Csv.line(row));
        }
        CliOutput.out(spec)
                .println("wrote " + csv + " (" + points.size() + " runs" + (failed > 0 ? ", " + failed + " failed" : "")
                        + ")");
        return failed > 0 ? 1 : 0;
    }

    static Map<String, List<String>> parseGrid(List<String> sets) {
        Map<String, List<String>> grid = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new IllegalArgumentException(
                        "--set '" + s + "' must look like section.key=v1,v2 (e.g. training.micro_batch_size=1,2,4)");
            }
            String key = s.substring(0, eq).trim();
            if (grid.containsKey(key))
                throw new IllegalArgumentException(
                        "--set " + key + " is given twice; list all its values in one --set");
            List<String> values = new ArrayList<>();
            for (String v : s.substring(eq + 1).split(",")) {
                if (v.isBlank()) throw new IllegalArgumentException("--set '" + s + "' has an empty value");
                values.add(v.trim());
            }
            grid.put(key, values);
        }
        return grid;
    }

    /** Every combination, the first key varying slowest. */
    static List<Map<String, String>> cartesian(Map<String, List<String>> grid) {
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<String>> e : grid.entrySet()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (String v : e.getValue()) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(e.getKey(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }

    /** The i-th values of every key together; keys with one value are fixed overrides, the rest need equally many values. */
    static List<Map<String, String>> zipped(Map<String, List<String>> grid) {
        int n = grid.values().stream().mapToInt(List::size).max().orElse(1);
        for (Map.Entry<String, List<String>> e : grid.entrySet()) {
            if (e.getValue().size() != n && e.getValue().size() != 1) {
                throw new IllegalArgumentException("--zip pairs values by position, but " + e.getKey() + " has "
                        + e.getValue().size() + " values where another key has " + n
                        + "; give every swept --set the same number of values");
            }
        }
        List<Map<String, String>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, String> m = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : grid.entrySet())
                m.put(e.getKey(), e.getValue().get(e.getValue().size() == 1 ? 0 : i));
            out.add(m);
        }
        return out;
    }

    static String runName(int index, Map<String, String> point) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%03d", index + 1));
        for (Map.Entry<String, String> e : point.entrySet()) {
            String key = e.getKey().substring(e.getKey().lastIndexOf('.') + 1);
            sb.append('_').append(key).append('-').append(e.getValue());
        }
        return sb.toString().replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    private static void append(Path csv, String line) {
        try {
            Files.writeString(csv, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + csv + ": " + e.getMessage(), e);
        }
    }
}
