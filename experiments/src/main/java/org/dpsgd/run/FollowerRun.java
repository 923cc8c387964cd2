package org.dpsgd.run;

import java.util.function.Consumer;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.ShardDataset;
import org.dpsgd.distributed.DataParallel;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.PrivateTraining;
import org.dpsgd.train.StepResult;

/**
 * A rank other than 0 in a data-parallel run: it takes the config, σ and checkpoint from rank 0
 * ({@link RankLaunch}), opens only its shard of the data, and takes the same steps as rank 0 (its part of
 * each allreduce) without writing anything: no run folder, metrics, checkpoints or ledger.
 */
public final class FollowerRun {
    private FollowerRun() {}

    /**
     * Runs this rank's part of the run to its end; returns the final parameters (identical to rank 0's), or null when
     * rank 0 had nothing to run (a finished run resumed).
     */
    public static float[] run(DataParallel parallel, TrainingRun.Options opts) {
        if (parallel.isLeader()) throw new IllegalStateException("rank 0 runs TrainingRun, not FollowerRun");
        RankLaunch launch = RankLaunch.exchange(parallel.communicator(), null);
        if (launch.nothingToDo()) return null;
        ExperimentConfig config = ConfigLoader.parse(launch.configYaml(), "rank 0's config");
        // This rank's own --backend/--device (e.g. gpu:local resolved to this rank's GPU), not rank 0's.
        if (opts.backend() != null) config = config.withBackend(config.backend().withName(opts.backend()));
        if (opts.device() != null) config = config.withBackend(config.backend().withDevice(opts.device()));
        parallel.validate(config);
        Consumer<String> log = line -> {}; // rank 0 says everything once
        ShardDataset shard = parallel.openShard(config.data(), config.seed(), log);
        try (PrivateTraining session = PrivateTraining.open(
                config,
                shard,
                launch.sigma(),
                log,
                ParallelSetup.customizer(parallel, config, shard, shard.population(), log))) {
            // Rank 0 says and records this rank's own checks of its host and model (this rank's log goes nowhere).
            RankChecks.exchange(parallel.communicator(), session.versions());
            DpSgdTrainer trainer = session.trainer();
            if (launch.checkpoint().length > 0)
                trainer.restore(CheckpointPayload.decode(launch.checkpoint(), "from rank 0")
                        .trainer());
            while (parallel.continueWithLeader(trainer.canStep(), trainer)) {
                StepResult r = trainer.step();
                if (ParallelSetup.rawDiagnostics(config))
                    parallel.combine(r); // rank 0 logs the whole batch's statistics
                parallel.afterStep(r.step(), trainer);
                if (opts.stopAfterSteps() != null && r.step() >= opts.stopAfterSteps() && trainer.canStep()) break;
            }
            parallel.atEnd(trainer);
            return trainer.parameters();
        }
    }
}
