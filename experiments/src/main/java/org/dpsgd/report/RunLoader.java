package org.dpsgd.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.dpsgd.run.Json;
import org.dpsgd.run.MetricsLog;
import org.dpsgd.run.RunDirectory;
import org.dpsgd.run.RunLock;

/** Reads run folders (run.json + metrics.jsonl) and sweep CSV files into {@link RunSummary}s. */
public final class RunLoader {
    private RunLoader() {}

    /** A run folder, or a CSV (sweep.csv) whose rows name run folders. */
    public static List<RunSummary> load(Path source) {
        if (Files.isDirectory(source)) {
            if (Files.isRegularFile(source.resolve(RunDirectory.RUN_JSON))) return List.of(fromRunDir(source));
            Path csv = source.resolve("sweep.csv");
            if (Files.isRegularFile(csv)) return fromCsv(csv);
            throw new IllegalArgumentException(
                    source + " is neither a run folder (run.json) nor a sweep folder (sweep.csv)");
        }
        if (Files.isRegularFile(source) && source.getFileName().toString().endsWith(".csv")) return fromCsv(source);
        throw new IllegalArgumentException(source + " does not exist or is not a run folder or .csv file");
    }

    /** run.json statuses of a run whose process was alive when it last wrote them. */
    /** run.json's backend_settings_ignored (keys under backend.settings) as full config keys. */
    static Set<String> ignoredSettings(JsonNode info) {
        Set<String> keys = new TreeSet<>();
        for (JsonNode k : info.path("backend_settings_ignored")) keys.add("backend.settings." + k.asText());
        return keys;
    }

    private static final List<String> LIVE_STATUSES = List.of("running", "starting");

    public static RunSummary fromRunDir(Path dir) {
        JsonNode info;
        try {
            info = Json.MAPPER.readTree(dir.resolve(RunDirectory.RUN_JSON).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read " + dir.resolve(RunDirectory.RUN_JSON) + ": " + e.getMessage(), e);
        }
        JsonNode fin = info.path("final");
        JsonNode layout = info.path("layout");
        String plan = layout.isMissingNode()
                ? ""
                : layout.path("micro_batch_size").asInt() + " × "
                        + layout.path("accumulation").asInt() + " × "
                        + layout.path("replicas").asInt();
        Map<String, String> config = new TreeMap<>();
        flatten("", info.path("config"), config);
        List<JsonNode> records = MetricsLog.read(dir.resolve(RunDirectory.METRICS));
        String status = info.path("status").asText("");
        // A live status with nobody holding the folder's lock: the process died without a word (kill -9, power loss).
        if (LIVE_STATUSES.contains(status) && !RunLock.isHeld(dir)) status = "interrupted";
        double epsilon = num(fin, "epsilon");
        long steps = fin.path("step").asLong(0);
        double testAccuracy = num(fin, "test_accuracy");
        if (fin.isMissingNode()) { // not finished: what its metrics say so far
            JsonNode lastTrain = last(records, "train");
            JsonNode lastEval = last(records, "eval");
            if (lastTrain != null) {
                steps = lastTrain.path("step").asLong(0);
                epsilon = num(lastTrain, "epsilon");
            }
            if (lastEval != null) {
                if (lastEval.path("step").asLong(0) >= steps) {
                    steps = lastEval.path("step").asLong(0);
                    if (Double.isFinite(num(lastEval, "epsilon"))) epsilon = num(lastEval, "epsilon");
                }
                testAccuracy = num(lastEval, "test_accuracy");
            }
        }
        boolean raw = "raw".equals(info.path("diagnostics").asText(""))
                || records.stream()
                        .anyMatch(n -> "raw".equals(n.path("diagnostics").asText("")));
        return new RunSummary(
                dir.getFileName().toString(),
                dir.toString(),
                info.path("backend").asText(""),
                info.path("device").asText(""),
                info.path("model").asText(config.getOrDefault("model.name", "")),
                plan,
                epsilon,
                num(info, "delta"),
                testAccuracy,
                throughput(fin),
                num(fin, "seconds"),
                steps,
                status,
                info.path("epsilon_holds").asBoolean(true),
                config,
                curves(records),
                Map.of(),
                raw,
                num(fin, "epsilon_lower"),
                ignoredSettings(info));
    }

    /**
     * Measured examples/s (raw diagnostics), else the expected one (steps/s × the expected batch
     * q·N, which reveals nothing about the training data), which the default policy writes.
     */
    private static double throughput(JsonNode fin) {
        double measured = num(fin, "examples_per_s");
        return Double.isFinite(measured) ? measured : num(fin, "expected_examples_per_s");
    }

    private static JsonNode last(List<JsonNode> records, String kind) {
        for (int i = records.size() - 1; i >= 0; i--)
            if (records.get(i).path("kind").asText("train").equals(kind)) return records.get(i);
        return null;
    }

    static RunSummary.Curves curves(Path metrics) {
        return curves(MetricsLog.read(metrics));
    }

    /** Train and eval records; a field a record lacks (e.g. loss under a diagnostics policy that keeps it private) becomes NaN. */
    static RunSummary.Curves curves(List<JsonNode> records) {
        List<double[]> train = new ArrayList<>();
        List<double[]> eval = new ArrayList<>();
        for (JsonNode n : records) {
            String kind = n.path("kind").asText("train");
            if (kind.equals("eval")) {
                eval.add(
                        new double[] {num(n, "step"), num(n, "test_accuracy"), num(n, "test_loss"), num(n, "epsilon")});
            } else {
                train.add(new double[] {num(n, "step"), num(n, "loss"), num(n, "accuracy"), num(n, "epsilon")});
            }
        }
        return new RunSummary.Curves(
                col(train, 0),
                col(train, 1),
                col(train, 2),
                col(train, 3),
                col(eval, 0),
                col(eval, 1),
                col(eval, 2),
                col(eval, 3));
    }

    /** sweep.csv: a run_dir column (relative to the CSV's folder) links each row to its run folder. */
    public static List<RunSummary> fromCsv(Path csv) {
        List<List<String>> records = Csv.read(csv);
        if (records.isEmpty()) throw new IllegalArgumentException(csv + " is empty");
        List<String> header = records.get(0);
        // sweep.csv lists the swept keys first, then the result columns from "status" on.
        int statusAt = header.indexOf("status");
        List<String> sweptKeys = new ArrayList<>(header.subList(0, statusAt < 0 ? 0 : statusAt));
        // A --set with one value is a fixed override, listed too: name runs by the keys that vary (all, if none does).
        List<String> varying = new ArrayList<>();
        for (int k = 0; k < sweptKeys.size(); k++) {
            java.util.Set<String> values = new java.util.HashSet<>();
            for (List<String> cells : records.subList(1, records.size()))
                values.add(k < cells.size() ? cells.get(k) : "");
            if (values.size() > 1) varying.add(sweptKeys.get(k));
        }
        if (!varying.isEmpty()) sweptKeys = varying;
        List<RunSummary> out = new ArrayList<>();
        for (int i = 1; i < records.size(); i++) {
            List<String> cells = records.get(i);
            Map<String, String> row = new TreeMap<>();
            for (int k = 0; k < header.size() && k < cells.size(); k++) row.put(header.get(k), cells.get(k));
            String runDir = row.get("run_dir");
            Path dir = runDir == null || runDir.isEmpty()
                    ? null
                    : csv.toAbsolutePath().getParent().resolve(runDir);
            Map<String, String> swept = new LinkedHashMap<>();
            for (String k : sweptKeys) swept.put(k, row.getOrDefault(k, ""));
            String label = sweptLabel(swept);
            if (dir != null && Files.isRegularFile(dir.resolve(RunDirectory.RUN_JSON))) {
                RunSummary r = fromRunDir(dir);
                out.add(swept.isEmpty() ? r : r.inSweep(label, swept));
            } else {
                out.add(new RunSummary(
                        !swept.isEmpty() ? label : runDir != null ? runDir : csv.getFileName() + ":" + (i + 1),
                        csv.toString(),
                        row.getOrDefault("backend", ""),
                        row.getOrDefault("device", ""),
                        row.getOrDefault("model", ""),
                        row.getOrDefault("batch_plan", ""),
                        parse(row.get("epsilon")),
                        parse(row.get("delta")),
                        parse(row.get("test_accuracy")),
                        parse(row.get("examples_per_s")),
                        parse(row.get("seconds")),
                        (long) orZero(parse(row.get("steps"))),
                        row.getOrDefault("status", ""),
                        true,
                        row,
                        RunSummary.Curves.EMPTY,
                        swept,
                        false,
                        parse(row.get("epsilon_lower")),
                        Set.of()));
            }
        }
        return out;
    }

    /** "micro_batch_size=4" (keys shortened to their last part unless two swept keys share it). */
    static String sweptLabel(Map<String, String> swept) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, String> e : swept.entrySet())
            parts.add(SweepCharts.shortKey(e.getKey(), swept.keySet()) + "=" + e.getValue());
        return String.join(", ", parts);
    }

    static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node == null || node.isMissingNode() || node.isNull()) return;
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isArray()) {
            out.put(prefix, node.toString());
        } else {
            out.put(prefix, node.asText());
        }
    }

    private static double num(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (v.isNumber()) return v.asDouble();
        if (v.isTextual()) return parse(v.asText());
        return Double.NaN;
    }

    private static double parse(String s) {
        if (s == null || s.isBlank()) return Double.NaN;
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static double orZero(double v) {
        return Double.isFinite(v) ? v : 0;
    }

    private static double[] col(List<double[]> rows, int k) {
        double[] out = new double[rows.size()];
        for (int i = 0; i < out.length; i++) out[i] = rows.get(i)[k];
        return out;
    }
}
