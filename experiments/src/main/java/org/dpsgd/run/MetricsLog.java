package org.dpsgd.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * metrics.jsonl: one JSON object per line, appended and flushed as it happens, so a crashed run
 * keeps everything it logged. Records carry "kind": "train" (per logged step) or "eval".
 */
public final class MetricsLog implements AutoCloseable {
    private final Path file;
    private BufferedWriter out;

    public MetricsLog(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    public synchronized void append(Map<String, ?> record) {
        try {
            if (out == null) {
                out = Files.newBufferedWriter(
                        file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            out.write(Json.MAPPER.writeValueAsString(record));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every record of a metrics file; a torn last line (crash mid-write) is skipped. */
    public static List<JsonNode> read(Path file) {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) return out;
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty()) continue;
                try {
                    out.add(Json.MAPPER.readTree(line));
                } catch (JsonProcessingException e) {
                    if (i != lines.size() - 1)
                        throw new IllegalArgumentException(
                                file + ": line " + (i + 1) + " is not JSON: " + e.getOriginalMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * On resume: moves the records logged after the checkpoint's step to {@code metrics-repeated.jsonl}
     * beside this file. Those steps ran and were released (and stay charged to ε); they are kept
     * there as a record, while this file goes on with the steps as they are run again.
     */
    public void setAsideAfter(long step) {
        close();
        List<JsonNode> keep = new ArrayList<>();
        List<JsonNode> aside = new ArrayList<>();
        for (JsonNode n : read(file)) (n.has("step") && n.get("step").asLong() > step ? aside : keep).add(n);
        if (aside.isEmpty()) return;
        try {
            StringBuilder moved = new StringBuilder();
            for (JsonNode n : aside)
                moved.append(Json.MAPPER.writeValueAsString(n)).append('\n');
            Files.writeString(
                    repeatedFile(),
                    moved.toString(),
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            StringBuilder sb = new StringBuilder();
            for (JsonNode n : keep) sb.append(Json.MAPPER.writeValueAsString(n)).append('\n');
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
            Files.move(
                    tmp,
                    file,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + file + ": " + e.getMessage(), e);
        }
    }

    /** Where {@link #setAsideAfter} keeps the records of steps a resumed run repeats. */
    public Path repeatedFile() {
        return file.resolveSibling("metrics-repeated.jsonl");
    }

    @Override
    public synchronized void close() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
        } finally {
            out = null;
        }
    }
}
