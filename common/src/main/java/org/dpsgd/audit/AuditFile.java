package org.dpsgd.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run folder's audit file ({@code audit.json}): the result and, per canary, its coin,
 * coordinate and score. The coins are the audit's secret and are written here only, never into the
 * model's metrics; the file is a release about the canaries, not about the private data.
 */
public final class AuditFile {
    public static final String NAME = "audit.json";

    private AuditFile() {}

    /**
     * Writes {@code dir/audit.json} atomically.
     *
     * @param summary the headline numbers (ε, ε_lower, ...), in order
     */
    public static Path write(Path dir, Map<String, Object> summary, GradientCanaries canaries, double[] scores) {
        Map<String, Object> doc = new LinkedHashMap<>(summary);
        doc.put("coins", canaries.coins());
        doc.put("coordinates", canaries.coordinates());
        doc.put("scores", scores);
        return write(dir, doc);
    }

    /**
     * Writes {@code dir/audit.json} for black-box canaries: per canary its coin, test-split index
     * (-1 = synthetic input), wrong label and score.
     */
    public static Path write(Path dir, Map<String, Object> summary, InputCanaries canaries, double[] scores) {
        Map<String, Object> doc = new LinkedHashMap<>(summary);
        doc.put("coins", canaries.coins());
        doc.put("test_ids", canaries.sourceIds());
        doc.put("labels", canaries.labels());
        doc.put("scores", scores);
        return write(dir, doc);
    }

    private static Path write(Path dir, Map<String, Object> doc) {
        Path file = dir.resolve(NAME);
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(NAME + ".tmp");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the audit file " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** The headline numbers of an audit, as written to the audit file and printed by {@code dpsgd audit --json}. */
    public static Map<String, Object> summary(
            String kind,
            double epsilon,
            double delta,
            AuditResult a,
            GuessRule rule,
            String score,
            double testAccuracy) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("kind", kind);
        s.put("epsilon", epsilon);
        s.put("epsilon_lower", a.epsilonLower());
        s.put("confidence", a.confidence());
        s.put("bound", a.bound().key());
        s.put("delta", delta);
        s.put("canaries", a.canaries());
        s.put("guesses", a.guesses());
        s.put("correct", a.correct());
        s.put("k_plus", a.kPlus());
        s.put("k_minus", a.kMinus());
        s.put("guess_rules", a.candidates());
        s.put("score", score);
        s.put("ceiling", PrivacyAudit.ceiling(a.canaries(), rule, a.delta(), a.confidence(), a.bound()));
        s.put("test_accuracy", testAccuracy);
        return s;
    }
}
