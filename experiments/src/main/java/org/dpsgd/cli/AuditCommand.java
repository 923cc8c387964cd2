package org.dpsgd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.audit.AuditBound;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.config.AuditConfig;
import org.dpsgd.config.AuditKind;
import org.dpsgd.config.AuditScore;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.run.Json;
import org.dpsgd.run.Progress;
import org.dpsgd.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dpsgd audit}: trains the config's run once with white-box gradient or black-box input canaries and reports the
 * accountant's ε beside the audit's lower bound ε_lower (Steinke, Nasr &amp; Jagielski 2023, or with {@code --bound
 * fdp} the f-DP bound of Mahloujifar, Melis &amp; Chaudhuri 2024).
 */
@Command(
        name = "audit",
        mixinStandardHelpOptions = true,
        description = {
            "Trains the config's run once with m secret canaries and prints the accountant's ε beside an empirical",
            "lower bound ε_lower (one-run audit, Steinke, Nasr & Jagielski 2023). ε_lower > ε means the implementation",
            "does not deliver the ε it reports; ε_lower <= ε is what an honest run shows (a lower bound, not a proof).",
            "--bound fdp: the f-DP one-run bound (Mahloujifar, Melis & Chaudhuri 2024), tighter, full-batch runs only."
        })
final class AuditCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, description = "Experiment config (YAML or JSON).")
    Path config;

    @Option(
            names = "--canaries",
            description = "m, the number of canaries (default: the config's audit.canaries, else 1000).")
    Integer canariesOption;

    @Option(
            names = "--kind",
            description =
                    "whitebox (gradient canaries; default) or blackbox (wrong-labelled test images through the backend's clipping, scored by loss; a much looser bound).")
    String kindOption;

    @Option(
            names = "--confidence",
            description = "Confidence of the lower bound (default: the config's audit.confidence, else 0.95).")
    Double confidenceOption;

    @Option(
            names = "--score",
            description =
                    "whitebox: observed_likelihood_ratio (default), likelihood_ratio (at the claimed σ) or sum; blackbox: loss. How a canary is scored; fixed before training.")
    String scoreOption;

    @Option(
            names = "--bound",
            description =
                    "steinke (default; Steinke, Nasr & Jagielski 2023, any mechanism) or fdp (Mahloujifar, Melis & Chaudhuri 2024, Gaussian trade-off curve: much tighter; full-batch runs only, q = 1).")
    String boundOption;

    @Option(
            names = "--out",
            description = "Run folder for run.json and audit.json (default: runs/<name>-audit-<time>).")
    Path out;

    @Option(
            names = "--json",
            description =
                    "Make the last stdout line one JSON object: epsilon, epsilon_lower, confidence, canaries, guesses, correct, kind, test_accuracy, ...")
    boolean json;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Override a config key, e.g. --set training.epochs=2 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Override
    public Integer call() {
        Map<String, String> overrides = ConfigLoader.parseOverrides(sets);
        ExperimentConfig cfg = ConfigLoader.load(config, overrides);
        BackendSettings.checkConfig(cfg, null, ConfigLoader.source(config.toString(), overrides));
        AuditConfig a0 = cfg.audit() != null ? cfg.audit() : AuditConfig.defaults();
        // The flags win over the config's audit: section; its constructor checks the result.
        AuditKind kind = kindOption != null ? AuditKind.parse("--kind", kindOption) : a0.kind();
        AuditConfig settings = new AuditConfig(
                canariesOption != null ? canariesOption : a0.canaries(),
                kind,
                confidenceOption != null ? confidenceOption : a0.confidence(),
                // The config's score belongs to its kind; another kind from the flag takes that kind's default.
                scoreOption != null ? AuditScore.parse("--score", scoreOption) : kind == a0.kind() ? a0.score() : null,
                boundOption != null ? AuditBound.parse("--bound", boundOption) : a0.bound());
        if (!cfg.privacy().enabled())
            throw new IllegalArgumentException("an audit needs a private run; set privacy.enabled: true");
        ExperimentConfig audited = new ExperimentConfig(
                cfg.name(),
                cfg.seed(),
                cfg.model(),
                cfg.data(),
                cfg.privacy(),
                cfg.training(),
                cfg.optimizer(),
                cfg.backend(),
                settings);
        Path dir = out != null ? out : defaultOut(cfg);
        // The same run as `dpsgd train` (ledger, lock, checkpoints, diagnostics policy), carrying the canaries.
        TrainingRun.Result r = TrainingRun.start(
                audited,
                dir,
                new TrainingRun.Options(
                        null,
                        null,
                        CliOutput.stream(CliOutput.out(spec)),
                        CliOutput.stream(CliOutput.err(spec)),
                        Progress.forConsole(CliOutput.stream(CliOutput.err(spec))),
                        null));
        Map<String, Object> summary = new LinkedHashMap<>(r.audit());
        summary.put("epsilon_holds", r.epsilonHolds());
        summary.put("steps", r.steps());
        summary.put("seconds", r.trainSeconds());
        double lower = ((Number) summary.get("epsilon_lower")).doubleValue();
        CliOutput.out(spec)
                .printf(
                        Locale.ROOT,
                        "ε = %.3f (accountant, δ = %s)  ε_lower = %.3f (audit, %s bound, %.0f%% confidence)  m = %s  r = %s  v = %s  "
                                + "test accuracy %s  %.0f s; run folder %s%n",
                        r.epsilon(),
                        r.delta(),
                        lower,
                        settings.bound(),
                        100 * settings.confidence(),
                        summary.get("canaries"),
                        summary.get("guesses"),
                        summary.get("correct"),
                        Double.isNaN(r.testAccuracy())
                                ? "n/a"
                                : String.format(Locale.ROOT, "%.2f%%", 100 * r.testAccuracy()),
                        r.trainSeconds(),
                        dir);
        if (lower > r.epsilon())
            CliOutput.out(spec)
                    .println(
                            "AUDIT FAILED: the audited lower bound exceeds the reported ε; this implementation does not deliver its ε");
        if (!r.epsilonHolds())
            CliOutput.out(spec)
                    .println("note: this run's ε is NOT a valid guarantee (insecure noise or non-Poisson sampling)");
        if (json) CliOutput.out(spec).println(Json.MAPPER.valueToTree(summary).toString());
        return lower > r.epsilon() ? 1 : 0;
    }

    private static Path defaultOut(ExperimentConfig cfg) {
        String stamp =
                java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", cfg.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-audit-" + stamp);
    }
}
