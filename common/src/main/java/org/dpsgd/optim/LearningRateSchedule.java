package org.dpsgd.optim;

import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.config.ScheduleKind;

/**
 * Learning rate of step t (0-based) out of T: linear warm-up lr·(t+1)/W for t < W, then constant
 * lr, or cosine from lr down to min_lr over the remaining T - W steps:
 * min_lr + (lr - min_lr)·(1 + cos(π·(t - W)/(T - W)))/2.
 */
public record LearningRateSchedule(ScheduleKind kind, double lr, double minLr, int warmupSteps, long totalSteps) {
    public LearningRateSchedule {
        if (kind == null) throw new IllegalArgumentException("optimizer.schedule is required (constant or cosine)");
        if (totalSteps <= 0) throw new IllegalArgumentException("total steps must be > 0, got " + totalSteps);
        if (warmupSteps > totalSteps) {
            throw new IllegalArgumentException(
                    "optimizer.warmup_steps=" + warmupSteps + " exceeds the run's " + totalSteps + " steps");
        }
    }

    /** The schedule the optimizer section of a config describes, over a run of {@code totalSteps} steps. */
    public static LearningRateSchedule from(OptimizerConfig c, long totalSteps) {
        return new LearningRateSchedule(c.schedule(), c.lr(), c.minLr(), c.warmupSteps(), totalSteps);
    }

    /** The learning rate of 0-based step {@code step}; steps past the end keep the final rate. */
    public double at(long step) {
        if (step < warmupSteps) return lr * (step + 1) / warmupSteps;
        if (kind == ScheduleKind.CONSTANT) return lr;
        long span = totalSteps - warmupSteps;
        double progress = span <= 0 ? 1 : Math.min(1.0, (double) (step - warmupSteps) / span);
        return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
