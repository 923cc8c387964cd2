package org.dpsgd.run;

import java.util.Map;
import java.util.function.Consumer;
import org.dpsgd.accounting.NoiseCalibration;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.distributed.DataParallel;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.RandomSources;
import org.dpsgd.sampling.SamplingMode;
import org.dpsgd.train.DpSgdTrainer;

/**
 * The data-parallel parts of a run that {@link TrainingRun} (rank 0) and {@link FollowerRun} (the other
 * ranks) share: σ from the whole training set, and the trainer's builder for this rank's shard.
 */
final class ParallelSetup {
    private ParallelSetup() {}

    /**
     * σ of the run: the resumed one, the config's, or calibrated for the target ε with N of the whole
     * training set (not of this rank's shard: q = B/N and T are the run's).
     */
    static Double sigma(
            ExperimentConfig config, Double resumed, int population, Consumer<String> log, Map<String, Object> info) {
        PrivacyConfig p = config.privacy();
        if (resumed != null || p.noiseMultiplier() != null) return resumed != null ? resumed : p.noiseMultiplier();
        long steps = config.training().totalSteps(population);
        double q = config.training().samplingRate(population);
        NoiseCalibration.Result c = NoiseCalibration.calibrate(p.targetEpsilon(), p.delta(), q, steps, p.accountant());
        log.accept(String.format(
                java.util.Locale.ROOT,
                "calibrated σ = %.4f for ε = %s at δ = %s over %d steps (q = %.6f, %s): ε(σ) = %.4f",
                c.noiseMultiplier(),
                p.targetEpsilon(),
                p.delta(),
                steps,
                q,
                p.accountant(),
                c.epsilon()));
        if (info != null) info.put("calibrated_epsilon", c.epsilon());
        return c.noiseMultiplier();
    }

    /**
     * The trainer's settings for this process: a rank's ({@link DataParallel#configure}), or for a single
     * process in fast-insecure Poisson mode the {@link CounterRandomSource} of the whole set, so that a
     * single-process run and a W-rank run of the same config sample the same batches.
     */
    static Consumer<DpSgdTrainer.Builder> customizer(
            DataParallel parallel, ExperimentConfig config, Dataset shard, int population, Consumer<String> log) {
        return customizer(parallel, config, shard, population, 0, log);
    }

    /** @param extras extra examples (audit canaries) this process's sampler draws after its data each step */
    static Consumer<DpSgdTrainer.Builder> customizer(
            DataParallel parallel,
            ExperimentConfig config,
            Dataset shard,
            int population,
            int extras,
            Consumer<String> log) {
        if (parallel != null) return b -> parallel.configure(b, config, shard, population, extras, log);
        PrivacyConfig p = config.privacy();
        boolean counter = p.enabled() && p.noise() == NoiseMode.FAST_INSECURE && p.sampling() == SamplingMode.POISSON;
        return b -> {
            if (counter)
                b.sampling(RandomSources.counterBased(config.seed(), shard.size(), 0, shard.size(), extras, log));
        };
    }

    /**
     * Whether training-batch statistics are written (as TrainingRun decides): only then are they summed
     * across ranks; otherwise they never leave a rank, as they never leave the process of a single run.
     */
    static boolean rawDiagnostics(ExperimentConfig config) {
        return !config.privacy().enabled() || config.privacy().rawDiagnostics();
    }
}
