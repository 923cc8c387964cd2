package org.dpsgd.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.audit.AuditFile;
import org.dpsgd.audit.AuditResult;
import org.dpsgd.audit.CanaryScore;
import org.dpsgd.audit.GradientCanaries;
import org.dpsgd.audit.GuessRule;
import org.dpsgd.audit.PrivacyAudit;
import org.dpsgd.audit.WhiteBoxAudit;
import org.dpsgd.config.AuditConfig;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.Datasets;
import org.dpsgd.data.Split;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.run.Json;
import org.dpsgd.run.RunDirectory;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.Evaluation;
import org.dpsgd.train.PrivateTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dpsgd audit}: trains the config's run once with white-box gradient canaries and reports the
 * accountant's ε beside the audit's lower bound ε_lower (Steinke, Nasr &amp; Jagielski 2023).
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = {"Trains the config's run once with m secret canaries and prints the accountant's ε beside an empirical",
                "lower bound ε_lower (one-run audit, Steinke, Nasr & Jagielski 2023). ε_lower > ε means the implementation",
                "does not deliver the ε it reports; ε_lower <= ε is what an honest run shows (a lower bound, not a proof)."})
final class AuditCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "Experiment config (YAML or JSON).")
    Path config;

    @Option(names = "--canaries", description = "m, the number of canaries (default: the config's audit.canaries, else 1000).")
    Integer canariesOption;

    @Option(names = "--kind", description = "whitebox (gradient canaries; default) or blackbox (input canaries; not implemented yet).")
    String kindOption;

    @Option(names = "--confidence", description = "Confidence of the lower bound (default: the config's audit.confidence, else 0.95).")
    Double confidenceOption;

    @Option(names = "--score", description = "observed_likelihood_ratio (default), likelihood_ratio (at the claimed σ) or sum: how a canary's released gradients are scored; fixed before training.")
    String scoreOption;

    @Option(names = "--out", description = "Run folder for run.json and audit.json (default: runs/<name>-audit-<time>).")
    Path out;

    @Option(names = "--json", description = "Make the last stdout line one JSON object: epsilon, epsilon_lower, confidence, canaries, guesses, correct, kind, test_accuracy, ...")
    boolean json;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key, e.g. --set training.epochs=2 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Override
    public Integer call() {
        ExperimentConfig cfg = ConfigLoader.load(config, ConfigLoader.parseOverrides(sets));
        AuditConfig a0 = cfg.audit() != null ? cfg.audit() : AuditConfig.defaults();
        // The flags win over the config's audit: section; its constructor checks the result.
        AuditConfig settings = new AuditConfig(canariesOption != null ? canariesOption : a0.canaries(), kindOption != null ? kindOption : a0.kind(),
                confidenceOption != null ? confidenceOption : a0.confidence(), scoreOption != null ? scoreOption : a0.score());
        int canaries = settings.canaries();
        String kind = settings.kind();
        double confidence = settings.confidence();
        if (kind.equals("blackbox")) {
            throw new IllegalArgumentException("--kind blackbox (input canaries) is not implemented yet; use --kind whitebox");
        }
        CanaryScore scoring = CanaryScore.parse(settings.score());
        check(cfg);
        long t0 = System.nanoTime();
        Dataset train = Datasets.open(cfg.data(), Split.TRAIN, cfg.seed(), System.err::println);
        Dataset test = Datasets.hasTest(cfg.data()) ? Datasets.open(cfg.data(), Split.TEST, cfg.seed(), System.err::println) : null;
        Network net = ModelZoo.build(cfg.model(), train.shape(), train.numClasses());
        GradientCanaries drawn = GradientCanaries.draw(canaries, TrainableMask.of(net, cfg.model().freeze()), secureRandom());
        GuessRule rule = GuessRule.defaultFor(canaries);
        System.err.printf(Locale.ROOT, "dpsgd audit: %s with %d white-box canaries (%d IN, secret), %s score, %.0f%% confidence; ceiling for m = %d: %.2f%n",
                cfg.name(), canaries, drawn.count(), scoring.key(), 100 * confidence, canaries,
                PrivacyAudit.ceiling(canaries, rule, cfg.privacy().delta(), confidence));
        try (PrivateTraining run = PrivateTraining.open(cfg, train, null, System.err::println, b -> b.extraExamples(drawn))) {
            DpSgdTrainer trainer = run.trainer();
            long every = Math.max(1, trainer.totalSteps() / 20);
            double[] scores = WhiteBoxAudit.train(trainer, drawn, cfg.optimizer(), scoring, r -> {
                if (r.step() % every == 0 || !trainer.canStep()) {
                    System.err.printf(Locale.ROOT, "step %d/%d  loss %.4f  ε %.3f%n", r.step(), trainer.totalSteps(), r.stats().meanLoss(), r.epsilon());
                }
            });
            double accuracy = Double.NaN;
            if (test != null) {
                Evaluation e = trainer.evaluate(test);
                accuracy = e.model().accuracy();
            }
            double seconds = (System.nanoTime() - t0) * 1e-9;
            double epsilon = trainer.epsilon();
            double delta = cfg.privacy().delta();
            AuditResult a = PrivacyAudit.audit(scores, drawn.coins(), rule, delta, confidence);
            Map<String, Object> summary = AuditFile.summary(kind, epsilon, delta, a, rule, scoring.key(), accuracy);
            summary.put("epsilon_holds", trainer.epsilonHolds());
            summary.put("steps", trainer.stepsDone());
            summary.put("seconds", seconds);
            Path dir = out != null ? out : defaultOut(cfg);
            RunDirectory rd = RunDirectory.create(dir);
            rd.writeRunInfo(runInfo(cfg, run, trainer, summary));
            AuditFile.write(dir, summary, drawn, scores);
            System.out.printf(Locale.ROOT, "ε = %.3f (accountant, δ = %s)  ε_lower = %.3f (audit, %.0f%% confidence)  m = %d  r = %d  v = %d  "
                            + "test accuracy %s  %.0f s; run folder %s%n", epsilon, delta, a.epsilonLower(), 100 * confidence, a.canaries(),
                    a.guesses(), a.correct(), Double.isNaN(accuracy) ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * accuracy), seconds, dir);
            if (a.epsilonLower() > epsilon) {
                System.out.println("AUDIT FAILED: the audited lower bound exceeds the reported ε; this implementation does not deliver its ε");
            }
            if (!trainer.epsilonHolds()) System.out.println("note: this run's ε is NOT a valid guarantee (insecure noise or non-Poisson sampling)");
            if (json) System.out.println(Json.MAPPER.valueToTree(summary).toString());
            return a.epsilonLower() > epsilon ? 1 : 0;
        }
    }

    private static void check(ExperimentConfig cfg) {
        if (!cfg.privacy().enabled()) throw new IllegalArgumentException("an audit needs a private run; set privacy.enabled: true");
        if (!cfg.privacy().sampling().equals("poisson")) {
            throw new IllegalArgumentException("the audit tests the Poisson-sampled mechanism that ε is computed for; set privacy.sampling: poisson");
        }
    }

    /** Canary coins and coordinates come from the JDK's DRBG: nothing written down can reproduce them. */
    private static SecureRandom secureRandom() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no DRBG SecureRandom; cannot draw secret canary coins", e);
        }
    }

    private static Map<String, Object> runInfo(ExperimentConfig cfg, PrivateTraining run, DpSgdTrainer trainer, Map<String, Object> summary) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("name", cfg.name());
        info.put("status", "audited");
        info.put("backend", run.backend().name());
        info.put("device", run.backend().device());
        info.put("model", run.network().name());
        info.put("delta", cfg.privacy().delta());
        info.put("noise_multiplier", trainer.noiseMultiplier());
        info.put("sampling_rate", trainer.samplingRate());
        info.put("epsilon_holds", trainer.epsilonHolds());
        info.put("config_yaml", ConfigLoader.toYaml(cfg));
        info.put("config", Json.MAPPER.convertValue(Json.MAPPER.valueToTree(cfg), new TypeReference<Map<String, Object>>() {}));
        Map<String, Object> fin = new LinkedHashMap<>();
        fin.put("step", trainer.stepsDone());
        fin.put("epsilon", summary.get("epsilon"));
        fin.put("epsilon_lower", summary.get("epsilon_lower"));
        fin.put("audit_confidence", summary.get("confidence"));
        fin.put("audit_canaries", summary.get("canaries"));
        fin.put("test_accuracy", summary.get("test_accuracy"));
        fin.put("seconds", summary.get("seconds"));
        info.put("final", fin);
        return info;
    }

    private static Path defaultOut(ExperimentConfig cfg) {
        String stamp = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", cfg.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-audit-" + stamp);
    }
}
