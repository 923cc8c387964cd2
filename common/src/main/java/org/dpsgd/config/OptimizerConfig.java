package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * @param name sgd, adam or adamw
 * @param lr base learning rate
 * @param momentum SGD momentum (0 = none)
 * @param nesterov Nesterov momentum (SGD)
 * @param weightDecay L2 weight decay (applied to the noisy gradient, as PyTorch does; decoupled for adamw)
 * @param beta1 Adam
 * @param beta2 Adam
 * @param eps Adam
 * @param schedule constant or cosine
 * @param warmupSteps linear warm-up from 0 over this many steps
 * @param minLr cosine floor
 */
public record OptimizerConfig(
        @JsonProperty("name") OptimizerKind name,
        @JsonProperty("lr") Double lr,
        @JsonProperty("momentum") Double momentum,
        @JsonProperty("nesterov") Boolean nesterov,
        @JsonProperty("weight_decay") Double weightDecay,
        @JsonProperty("beta1") Double beta1,
        @JsonProperty("beta2") Double beta2,
        @JsonProperty("eps") Double eps,
        @JsonProperty("schedule") ScheduleKind schedule,
        @JsonProperty("warmup_steps") Integer warmupSteps,
        @JsonProperty("min_lr") Double minLr) {

    public OptimizerConfig {
        // An unknown name or schedule never gets here: ConfigLoader refuses it while binding, naming the valid ones.
        if (name == null) name = OptimizerKind.SGD;
        if (lr == null) throw new IllegalArgumentException("optimizer.lr is required");
        if (!(lr > 0) || Double.isInfinite(lr))
            throw new IllegalArgumentException("optimizer.lr must be a finite number > 0, got " + lr);
        if (momentum == null) momentum = 0.0;
        if (momentum < 0 || momentum >= 1)
            throw new IllegalArgumentException("optimizer.momentum must be in [0, 1), got " + momentum);
        if (nesterov == null) nesterov = false;
        if (nesterov && momentum == 0) throw new IllegalArgumentException("optimizer.nesterov needs momentum > 0");
        if (weightDecay == null) weightDecay = 0.0;
        if (weightDecay < 0)
            throw new IllegalArgumentException("optimizer.weight_decay must be >= 0, got " + weightDecay);
        if (beta1 == null) beta1 = 0.9;
        if (beta2 == null) beta2 = 0.999;
        if (eps == null) eps = 1e-8;
        if (!(beta1 >= 0 && beta1 < 1))
            throw new IllegalArgumentException("optimizer.beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1))
            throw new IllegalArgumentException("optimizer.beta2 must be in [0, 1), got " + beta2);
        if (!(eps > 0)) throw new IllegalArgumentException("optimizer.eps must be > 0, got " + eps);
        if (schedule == null) schedule = ScheduleKind.CONSTANT;
        if (warmupSteps == null) warmupSteps = 0;
        if (warmupSteps < 0)
            throw new IllegalArgumentException("optimizer.warmup_steps must be >= 0, got " + warmupSteps);
        if (minLr == null) minLr = 0.0;
        if (minLr < 0 || minLr > lr)
            throw new IllegalArgumentException("optimizer.min_lr must be in [0, lr], got " + minLr);
    }

    /** Plain SGD at constant learning rate {@code lr}, no momentum or weight decay. */
    public static OptimizerConfig sgd(double lr) {
        return new OptimizerConfig(OptimizerKind.SGD, lr, null, null, null, null, null, null, null, null, null);
    }

    /** SGD with heavy-ball {@code momentum} in [0, 1) at constant learning rate {@code lr}. */
    public static OptimizerConfig sgdMomentum(double lr, double momentum) {
        return new OptimizerConfig(OptimizerKind.SGD, lr, momentum, null, null, null, null, null, null, null, null);
    }
}
