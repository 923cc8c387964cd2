package org.dpsgd.run;

import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.function.Consumer;
import org.dpsgd.audit.AuditFile;
import org.dpsgd.audit.AuditResult;
import org.dpsgd.audit.CanaryObserver;
import org.dpsgd.audit.CanaryScore;
import org.dpsgd.audit.GradientCanaries;
import org.dpsgd.audit.GuessRule;
import org.dpsgd.audit.PrivacyAudit;
import org.dpsgd.config.AuditConfig;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.StepResult;

/**
 * The one-run audit a training run carries when its config has an {@code audit:} section
 * (docs/audit.md): secret white-box canaries sampled with the data, scored from the parameters
 * after every step, and the lower bound ε_lower written to {@code audit.json} and {@code run.json}.
 */
final class RunAudit {
    private final AuditConfig settings;
    private final ExperimentConfig config;
    private final GradientCanaries canaries;
    private final CanaryScore score;
    private CanaryObserver observer;
    private float[] before;

    private RunAudit(AuditConfig settings, ExperimentConfig config, GradientCanaries canaries) {
        this.settings = settings;
        this.config = config;
        this.canaries = canaries;
        this.score = CanaryScore.parse(settings.score());
    }

    /** The audit of {@code config}'s run, or null when it has no audit section. */
    static RunAudit forRun(ExperimentConfig config, Dataset train, boolean resuming, boolean dataParallel) {
        AuditConfig a = config.audit();
        if (a == null) return null;
        if (!config.privacy().enabled())
            throw new IllegalArgumentException(
                    "an audit needs a private run; set privacy.enabled: true or drop the audit section");
        if (!config.privacy().sampling().equals("poisson")) {
            throw new IllegalArgumentException(
                    "the audit tests the Poisson-sampled mechanism that ε is computed for; set privacy.sampling: poisson");
        }
        if (a.kind().equals("blackbox"))
            throw new IllegalArgumentException(
                    "audit.kind: blackbox (input canaries) is not implemented yet; use whitebox");
        if (resuming) {
            throw new IllegalStateException(
                    "an audited run cannot be resumed: its canaries are scored on every step of one process, "
                            + "and their secret coins are not checkpointed; start the audit again");
        }
        if (dataParallel)
            throw new IllegalArgumentException(
                    "audits of data-parallel runs are not supported yet; run the audit in one process");
        Network net = ModelZoo.build(config.model(), train.shape(), train.numClasses());
        return new RunAudit(
                a,
                config,
                GradientCanaries.draw(
                        a.canaries(), TrainableMask.of(net, config.model().freeze()), drbg()));
    }

    /** Adds the canaries to the trainer's sampled population. */
    Consumer<DpSgdTrainer.Builder> customizer() {
        return b -> b.extraExamples(canaries);
    }

    /** Before the first step: the parameters the first step starts from. */
    void start(DpSgdTrainer trainer) {
        observer = new CanaryObserver(canaries.coordinates(), trainer.mechanism(), config.optimizer(), score);
        before = trainer.parameters();
    }

    /** After each step: scores the canaries on the released update. */
    void afterStep(DpSgdTrainer trainer, StepResult r) {
        float[] after = trainer.parameters();
        observer.observe(before, after, r.lr());
        before = after;
    }

    /** Computes ε_lower, writes audit.json into {@code dir} and returns the summary for run.json. */
    Map<String, Object> finish(Path dir, double epsilon, double delta, double testAccuracy) {
        GuessRule rule = GuessRule.defaultFor(settings.canaries());
        double[] scores = observer.scores();
        AuditResult a = PrivacyAudit.audit(scores, canaries.coins(), rule, delta, settings.confidence());
        Map<String, Object> summary =
                AuditFile.summary(settings.kind(), epsilon, delta, a, rule, score.key(), testAccuracy);
        AuditFile.write(dir, summary, canaries, scores);
        return summary;
    }

    /** Short description for the start of the run. */
    String describe(double delta) {
        GuessRule rule = GuessRule.defaultFor(settings.canaries());
        return String.format(
                java.util.Locale.ROOT,
                "audit: %d white-box canaries (secret coins), %s score, %.0f%% confidence; ceiling for m = %d: %.2f",
                settings.canaries(),
                score.key(),
                100 * settings.confidence(),
                settings.canaries(),
                PrivacyAudit.ceiling(settings.canaries(), rule, delta, settings.confidence()));
    }

    /** Canary coins come from the JDK's DRBG: nothing written before the run's end can reproduce them. */
    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no DRBG SecureRandom; cannot draw secret canary coins", e);
        }
    }
}
