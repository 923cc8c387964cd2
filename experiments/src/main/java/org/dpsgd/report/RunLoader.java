package org.dpsgd.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dpsgd.run.Json;
import org.dpsgd.run.MetricsLog;
import org.dpsgd.run.RunDirectory;

/** Reads run folders (run.json + metrics.jsonl) and sweep CSV files into {@link RunSummary}s. */
public final class RunLoader {
    private RunLoader() {}

    /** A run folder, or a CSV (sweep.csv) whose rows name run folders. */
    public static List<RunSummary> load(Path source) {
        if (Files.isDirectory(source)) {
            if (Files.isRegularFile(source.resolve(RunDirectory.RUN_JSON))) return List.of(fromRunDir(source));
            Path csv = source.resolve("sweep.csv");
            if (Files.isRegularFile(csv)) return fromCsv(csv);
            throw new IllegalArgumentException(source + " is neither a run folder (run.json) nor a sweep folder (sweep.csv)");
        }
        if (Files.isRegularFile(source) && source.getFileName().toString().endsWith(".csv")) return fromCsv(source);
        throw new IllegalArgumentException(source + " does not exist or is not a run folder or .csv file");
    }

    public static RunSummary fromRunDir(Path dir) {
        JsonNode info;
        try {
            info = Json.MAPPER.readTree(dir.resolve(RunDirectory.RUN_JSON).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(RunDirectory.RUN_JSON) + ": " + e.getMessage(), e);
        }
        JsonNode fin = info.path("final");
        JsonNode layout = info.path("layout");
        String plan = layout.isMissingNode() ? "" : layout.path("micro_batch_size").asInt() + " × " + layout.path("accumulation").asInt()
                + " × " + layout.path("replicas").asInt();
        Map<String, String> config = new TreeMap<>();
        flatten("", info.path("config"), config);
        return new RunSummary(dir.getFileName().toString(), dir.toString(), info.path("backend").asText(""), info.path("device").asText(""),
                info.path("model").asText(config.getOrDefault("model.name", "")), plan,
                num(fin, "epsilon"), num(info, "delta"), num(fin, "test_accuracy"), num(fin, "examples_per_s"), num(fin, "seconds"),
                fin.path("step").asLong(0), info.path("status").asText(""), info.path("epsilon_holds").asBoolean(true), config, curves(dir.resolve(RunDirectory.METRICS)));
    }

    static RunSummary.Curves curves(Path metrics) {
        List<double[]> train = new ArrayList<>();
        List<double[]> eval = new ArrayList<>();
        for (JsonNode n : MetricsLog.read(metrics)) {
            String kind = n.path("kind").asText("train");
            if (kind.equals("eval")) {
                eval.add(new double[] {num(n, "step"), num(n, "test_accuracy"), num(n, "test_loss"), num(n, "epsilon")});
            } else {
                train.add(new double[] {num(n, "step"), num(n, "loss"), num(n, "accuracy"), num(n, "epsilon")});
            }
        }
        return new RunSummary.Curves(col(train, 0), col(train, 1), col(train, 2), col(train, 3),
                col(eval, 0), col(eval, 1), col(eval, 2), col(eval, 3));
    }

    /** sweep.csv: a run_dir column (relative to the CSV's folder) links each row to its run folder. */
    public static List<RunSummary> fromCsv(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + csv + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty()) throw new IllegalArgumentException(csv + " is empty");
        List<String> header = Csv.parse(lines.get(0));
        List<RunSummary> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            List<String> cells = Csv.parse(lines.get(i));
            Map<String, String> row = new TreeMap<>();
            for (int k = 0; k < header.size() && k < cells.size(); k++) row.put(header.get(k), cells.get(k));
            String runDir = row.get("run_dir");
            Path dir = runDir == null || runDir.isEmpty() ? null : csv.toAbsolutePath().getParent().resolve(runDir);
            if (dir != null && Files.isRegularFile(dir.resolve(RunDirectory.RUN_JSON))) {
                out.add(fromRunDir(dir));
            } else {
                out.add(new RunSummary(runDir != null ? runDir : csv.getFileName() + ":" + (i + 1), csv.toString(), row.getOrDefault("backend", ""),
                        row.getOrDefault("device", ""), row.getOrDefault("model", ""), row.getOrDefault("batch_plan", ""),
                        parse(row.get("epsilon")), parse(row.get("delta")), parse(row.get("test_accuracy")), parse(row.get("examples_per_s")),
                        parse(row.get("seconds")), (long) orZero(parse(row.get("steps"))), row.getOrDefault("status", ""), true, row, RunSummary.Curves.EMPTY));
            }
        }
        return out;
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
