package org.dpsgd.run;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.dpsgd.audit.AuditBound;
import org.dpsgd.audit.AuditFile;
import org.dpsgd.audit.AuditResult;
import org.dpsgd.audit.CanaryObserver;
import org.dpsgd.audit.CanaryScore;
import org.dpsgd.audit.GradientCanaries;
import org.dpsgd.audit.GuessRule;
import org.dpsgd.audit.InputCanaries;
import org.dpsgd.audit.PrivacyAudit;
import org.dpsgd.config.AuditConfig;
import org.dpsgd.config.AuditKind;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.sampling.SamplingMode;
import org.dpsgd.sampling.SecureRandomSource;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.PrivateTraining;
import org.dpsgd.train.StepResult;

/**
 * The one-run audit a training run carries when its config has an {@code audit:} section
 * (docs/audit.md): secret canaries sampled with the data and the lower bound ε_lower written to
 * {@code audit.json} and {@code run.json}. White-box gradient canaries are scored from the
 * parameters after every step; black-box input canaries (wrong-labelled test images) are clipped
 * by the backend like real examples and scored by their loss under the final model.
 */
final class RunAudit {
    private final AuditConfig settings;
    private final ExperimentConfig config;
    private final GradientCanaries canaries; // whitebox, else null
    private final InputCanaries inputs; // blackbox, else null
    private final CanaryScore score; // whitebox only
    private final AuditBound bound;
    private CanaryObserver observer;
    private float[] before;

    private RunAudit(AuditConfig settings, ExperimentConfig config, GradientCanaries canaries, InputCanaries inputs) {
        this.settings = settings;
        this.config = config;
        this.canaries = canaries;
        this.inputs = inputs;
        this.score = canaries != null ? CanaryScore.parse(settings.score().configName()) : null;
        this.bound = settings.bound();
    }

    /**
     * The audit of {@code config}'s run, or null when it has no audit section.
     *
     * @param train this process's training data (a data-parallel rank's shard)
     * @param population N of the whole run (the shard's size is not the run's q)
     */
    static RunAudit forRun(ExperimentConfig config, Dataset train, int population, Dataset test, boolean resuming) {
        AuditConfig a = config.audit();
        if (a == null) return null;
        if (!config.privacy().enabled())
            throw new IllegalArgumentException(
                    "an audit needs a private run; set privacy.enabled: true or drop the audit section");
        if (config.privacy().sampling() != SamplingMode.POISSON) {
            throw new IllegalArgumentException(
                    "the audit tests the Poisson-sampled mechanism that ε is computed for; set privacy.sampling: poisson");
        }
        if (resuming) {
            throw new org.dpsgd.UserError(
                    "an audited run cannot be resumed: its canaries are scored on every step of one process, "
                            + "and their secret coins are not checkpointed; start the audit again");
        }
        if (a.bound() == AuditBound.FDP && config.training().batchSize() < population) {
            // The f-DP test rejects "μ-GDP"; only a full-batch Gaussian run is exactly GDP. A subsampled run could
            // honour its (ε, δ) and still fail it, so a failed audit would prove nothing.
            throw new IllegalArgumentException("audit.bound: fdp tests a Gaussian (μ-GDP) claim, which only full-batch "
                    + "runs satisfy exactly; this run samples q = "
                    + config.training().batchSize() + "/" + population
                    + " < 1. Use audit.bound: steinke, or training.batch_size >= " + population);
        }
        if (a.kind() == AuditKind.BLACKBOX) return new RunAudit(a, config, null, blackBoxCanaries(a, train, test));
        Network net = ModelZoo.build(config.model(), train.shape(), train.numClasses());
        return new RunAudit(
                a,
                config,
                GradientCanaries.draw(
                        a.canaries(), TrainableMask.of(net, config.model().freeze()), SecureRandomSource.drbg()),
                null);
    }

    /**
     * Wrong-labelled test images (never training images), or synthetic inputs when the data has no
     * test split; inputs, labels and coins from the DRBG.
     */
    private static InputCanaries blackBoxCanaries(AuditConfig a, Dataset train, Dataset test) {
        if (test == null)
            return InputCanaries.synthetic(a.canaries(), train.shape(), train.numClasses(), SecureRandomSource.drbg());
        if (!test.shape().equals(train.shape()) || test.numClasses() != train.numClasses())
            throw new IllegalArgumentException("the test split (" + test.shape() + ", " + test.numClasses()
                    + " classes) does not match the training split; black-box canaries come from the test split");
        return InputCanaries.fromTestSplit(a.canaries(), test, SecureRandomSource.drbg());
    }

    /** The test set the run evaluates on: without the black-box canaries' images (they were trained on, under wrong labels). */
    Dataset evaluationSet(Dataset test) {
        return inputs == null || test == null ? test : inputs.heldOut(test);
    }

    /**
     * Adds the canaries to the trainer's sampled population as extra examples: q = B/N, the step
     * count and the divisor q·N stay those of the N real examples.
     */
    Consumer<DpSgdTrainer.Builder> customizer() {
        return canaries != null ? b -> b.extraExamples(canaries) : b -> b.extraExamples(inputs);
    }

    /**
     * How many extra examples the sampler draws after the data each step (the IN canaries). In a
     * data-parallel run only rank 0 holds them (it alone runs this class), before the cross-process sum.
     */
    int extraCount() {
        return canaries != null ? canaries.count() : inputs.count();
    }

    /** Before the first step: the parameters the first step starts from (whitebox), the model that clips (blackbox). */
    void start(PrivateTraining session) {
        DpSgdTrainer trainer = session.trainer();
        if (inputs != null) {
            if (session.model().gradientScope() == org.dpsgd.backend.GradientScope.RUN)
                // Each canary is clipped and drained alone; a drain of this model is a collective across poprun
                // instances, which the other instances would never join.
                throw new IllegalArgumentException(
                        "black-box canaries are clipped one at a time by the backend, but this backend sums "
                                + "across poprun instances on the device; use audit.kind: whitebox or audit in one process");
            inputs.bind(
                    session.model(),
                    session.layout().slotsPerCall(),
                    config.data().augmentation().multiplicity());
            return;
        }
        observer = new CanaryObserver(canaries.coordinates(), trainer.mechanism(), config.optimizer(), score);
        before = trainer.parameters();
    }

    /** After each step: scores the white-box canaries on the released update (black-box: nothing until the end). */
    void afterStep(DpSgdTrainer trainer, StepResult r) {
        if (inputs != null) return;
        float[] after = trainer.parameters();
        observer.observe(before, after, r.lr());
        before = after;
    }

    /** Computes ε_lower, writes audit.json into {@code dir} and returns the summary for run.json. */
    Map<String, Object> finish(Path dir, double epsilon, double delta, double testAccuracy) {
        GuessRule rule = GuessRule.defaultFor(settings.canaries());
        if (inputs != null) {
            double[] scores = inputs.scores();
            AuditResult a = PrivacyAudit.audit(scores, inputs.coins(), rule, delta, settings.confidence(), bound);
            Map<String, Object> summary = AuditFile.summary(
                    settings.kind().configName(),
                    epsilon,
                    delta,
                    a,
                    rule,
                    settings.score().configName(),
                    testAccuracy);
            AuditFile.write(dir, summary, inputs, scores);
            return summary;
        }
        double[] scores = observer.scores();
        AuditResult a = PrivacyAudit.audit(scores, canaries.coins(), rule, delta, settings.confidence(), bound);
        Map<String, Object> summary =
                AuditFile.summary(settings.kind().configName(), epsilon, delta, a, rule, score.key(), testAccuracy);
        AuditFile.write(dir, summary, canaries, scores);
        return summary;
    }

    /** Short description for the start of the run. */
    String describe(double delta) {
        GuessRule rule = GuessRule.defaultFor(settings.canaries());
        if (inputs != null) {
            return String.format(
                    java.util.Locale.ROOT,
                    "audit: %d black-box input canaries (%s, wrong labels, secret coins), loss score, %.0f%% "
                            + "confidence, %s bound; a much looser bound than white-box (ceiling for m = %d: %.2f)",
                    settings.canaries(),
                    inputs.sourceIds()[0] < 0 ? "synthetic inputs" : "test images",
                    100 * settings.confidence(),
                    bound.key(),
                    settings.canaries(),
                    PrivacyAudit.ceiling(settings.canaries(), rule, delta, settings.confidence(), bound));
        }
        return String.format(
                java.util.Locale.ROOT,
                "audit: %d white-box canaries (secret coins), %s score, %.0f%% confidence, %s bound; ceiling for m = %d: %.2f",
                settings.canaries(),
                score.key(),
                100 * settings.confidence(),
                bound.key(),
                settings.canaries(),
                PrivacyAudit.ceiling(settings.canaries(), rule, delta, settings.confidence(), bound));
    }
}
