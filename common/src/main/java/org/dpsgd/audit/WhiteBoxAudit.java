package org.dpsgd.audit;

import java.util.function.Consumer;
import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.StepResult;

/**
 * Trains a run that carries {@link GradientCanaries} (built with
 * {@code DpSgdTrainer.Builder.extraExamples(canaries)}) to the end and scores the canaries from the
 * parameters after every step ({@link CanaryObserver}).
 *
 * <pre>{@code
 * GradientCanaries canaries = GradientCanaries.draw(1000, mask, new SecureRandom());
 * DpSgdTrainer trainer = DpSgdTrainer.builder(config, train, model).extraExamples(canaries)...build();
 * double[] scores = WhiteBoxAudit.train(trainer, canaries, config.optimizer(), CanaryScore.LIKELIHOOD_RATIO, r -> { });
 * AuditResult a = PrivacyAudit.audit(scores, canaries.coins(), GuessRule.defaultFor(1000), delta, 0.95);
 * }</pre>
 */
public final class WhiteBoxAudit {
    private WhiteBoxAudit() {}

    /** Steps {@code trainer} while it can, calling {@code eachStep} after each; returns the canaries' scores. */
    public static double[] train(
            DpSgdTrainer trainer,
            GradientCanaries canaries,
            OptimizerConfig optimizer,
            CanaryScore score,
            Consumer<StepResult> eachStep) {
        if (trainer.stepsDone() != 0)
            throw new IllegalStateException(
                    "audit a run from its first step (this trainer has taken " + trainer.stepsDone() + ")");
        CanaryObserver observer = new CanaryObserver(canaries.coordinates(), trainer.mechanism(), optimizer, score);
        float[] before = trainer.parameters();
        while (trainer.canStep()) {
            StepResult r = trainer.step();
            float[] after = trainer.parameters();
            observer.observe(before, after, r.lr());
            before = after;
            eachStep.accept(r);
        }
        return observer.scores();
    }
}
