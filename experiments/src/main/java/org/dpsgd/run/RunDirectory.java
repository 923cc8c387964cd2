package org.dpsgd.run;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One run's folder:
 * <pre>
 *   run.json        resolved config, provenance, status, final metrics (rewritten atomically)
 *   metrics.jsonl   one JSON record per logged step and per evaluation
 *   checkpoints/    ckpt-&lt;step&gt;.bin, the newest two
 * </pre>
 */
public final class RunDirectory {
    public static final String RUN_JSON = "run.json";
    public static final String METRICS = "metrics.jsonl";
    public static final int KEEP_CHECKPOINTS = 2;

    private final Path root;
    private final MetricsLog metrics;
    private final Checkpoints checkpoints;

    private RunDirectory(Path root) {
        this.root = root;
        this.metrics = new MetricsLog(root.resolve(METRICS));
        this.checkpoints = new Checkpoints(root.resolve("checkpoints"), KEEP_CHECKPOINTS);
    }

    /** A new run folder; refuses one that already holds a run (use --resume to continue it). */
    public static RunDirectory create(Path root) {
        if (Files.exists(root.resolve(RUN_JSON))) {
            throw new IllegalArgumentException(root
                    + " already holds a run (run.json); choose another --out or continue it with --resume " + root);
        }
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create run folder " + root + ": " + e.getMessage(), e);
        }
        return new RunDirectory(root);
    }

    /**
     * Deletes this folder if it holds nothing but its lock file: a run refused before its first write
     * leaves no empty folder behind. Anything else in it (run.json, a ledger, a user's file) keeps it.
     * Call it while holding the folder's {@link RunLock}, so no other process can be starting a run in it.
     */
    public void removeIfNothingWritten() {
        try (var entries = Files.list(root)) {
            if (!entries.allMatch(p -> p.getFileName().toString().equals(RunLock.FILE))) return;
            Files.deleteIfExists(root.resolve(RunLock.FILE));
            Files.deleteIfExists(root);
        } catch (IOException e) {
            // Best effort: the refusal the caller is about to report matters more than an empty folder.
        }
    }

    /** An existing run folder (for --resume and compare). */
    public static RunDirectory open(Path root) {
        if (!Files.isRegularFile(root.resolve(RUN_JSON))) {
            throw new IllegalArgumentException(
                    root + " is not a run folder (no run.json); give the --out folder of a dpsgd train run");
        }
        return new RunDirectory(root);
    }

    public Path root() {
        return root;
    }

    public MetricsLog metrics() {
        return metrics;
    }

    public Checkpoints checkpoints() {
        return checkpoints;
    }

    /** Replaces run.json atomically (temp file + rename), so readers never see half a file. */
    public void writeRunInfo(Map<String, Object> info) {
        Path target = root.resolve(RUN_JSON);
        try {
            Path tmp = Files.createTempFile(root, "run-", ".json.tmp");
            try {
                Json.PRETTY.writeValue(tmp.toFile(), info);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    public Map<String, Object> readRunInfo() {
        return readRunInfo(root);
    }

    public static Map<String, Object> readRunInfo(Path root) {
        Path f = root.resolve(RUN_JSON);
        try {
            return Json.MAPPER.readValue(f.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
