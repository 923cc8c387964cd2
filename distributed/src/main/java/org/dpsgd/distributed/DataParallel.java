package org.dpsgd.distributed;

import java.util.function.Consumer;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.config.DataConfig;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.Datasets;
import org.dpsgd.data.ShardDataset;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.CounterRandomSource;
import org.dpsgd.sampling.RandomSources;
import org.dpsgd.sampling.SamplingMode;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.StepResult;

/**
 * What one rank of a data-parallel DP-SGD run does beyond the single-process loop: it holds a contiguous
 * shard of the training set, Poisson-samples it at the global q = B/N, sums its clipped gradients, and
 * joins one allreduce per logical step ({@link MpiGradientReduction}: rank 0 adds the one noise draw).
 * The trainer divides by the global q·N ({@link DpSgdTrainer.Builder#populationSize}), so the update,
 * the ledger and ε are those of the single-process run. Rank 0 alone writes the run folder; every rank
 * follows rank 0's decision to take another step, and parameters are compared across ranks every
 * {@code checkEvery} steps.
 *
 * <p>Sampling randomness: with privacy.noise secure each rank keys its own ChaCha20 from its own DRBG
 * (the trainer's default; no key crosses the wire). With fast-insecure each rank uses the
 * {@link CounterRandomSource} of its shard, so the global batches equal the single-process run's.
 */
public final class DataParallel {
    private final Communicator comm;
    private final int checkEvery;
    private final ParameterConsistency consistency;

    /** @param checkEvery compare parameters across ranks every this many steps (≥ 1) */
    public DataParallel(Communicator comm, int checkEvery) {
        if (checkEvery < 1)
            throw new IllegalArgumentException("the parameter check interval must be >= 1 step, got " + checkEvery);
        this.comm = comm;
        this.checkEvery = checkEvery;
        this.consistency = new ParameterConsistency(comm);
    }

    public Communicator communicator() {
        return comm;
    }

    public int rank() {
        return comm.rank();
    }

    public int size() {
        return comm.size();
    }
    /** Rank 0: draws the noise, writes the run folder, evaluates. */
    public boolean isLeader() {
        return comm.rank() == 0;
    }

    public int checkEvery() {
        return checkEvery;
    }

    /** Refuses configs whose meaning would change with W; one line naming the key. */
    public void validate(ExperimentConfig config) {
        PrivacyConfig p = config.privacy();
        if (!p.enabled()) {
            throw new IllegalArgumentException(
                    "privacy.enabled: false is not supported in a data-parallel run (the non-private update has no "
                            + "cross-process sum); run it as one process");
        }
        if (p.sampling() == SamplingMode.SHUFFLE) {
            throw new IllegalArgumentException(
                    "privacy.sampling: shuffle is not supported in a data-parallel run (each rank would draw B examples); "
                            + "use sampling: poisson");
        }
    }

    /**
     * Opens only this rank's contiguous shard of the training set {@code data} names: IDX and CIFAR read
     * just the shard's byte range, so a rank holds ~N/W images ({@link Datasets#openShard}); the
     * shard's {@link ShardDataset#population()} is the global N.
     */
    public ShardDataset openShard(DataConfig data, long seed, Consumer<String> log) {
        return Datasets.openShard(data, seed, comm.rank(), comm.size(), log);
    }

    /** This rank's contiguous shard of the full training set, already in memory. */
    public Dataset shard(Dataset full) {
        return ShardDataset.forRank(full, comm.rank(), comm.size());
    }

    /**
     * Sets up {@code b} for this rank: the cross-process reduction, N of the whole run, the counter sampler
     * in fast-insecure mode, and no background noise on ranks that never draw noise.
     *
     * @param shard what {@link #shard} returned for this rank
     * @param log where the insecure-sampling warning goes
     */
    public void configure(
            DpSgdTrainer.Builder b, ExperimentConfig config, Dataset shard, int population, Consumer<String> log) {
        configure(b, config, shard, population, 0, log);
    }

    /**
     * As {@link #configure(DpSgdTrainer.Builder, ExperimentConfig, Dataset, int, Consumer)} for a rank whose
     * sampler also draws {@code extras} extra examples (an audit's canaries) after its shard each step:
     * rank 0 only, so each canary joins a step once, with probability q, and its clipped gradient enters
     * rank 0's sum before the noise and the cross-process sum, as in one process.
     */
    public void configure(
            DpSgdTrainer.Builder b,
            ExperimentConfig config,
            Dataset shard,
            int population,
            int extras,
            Consumer<String> log) {
        if (extras != 0 && !isLeader())
            throw new IllegalArgumentException(
                    "extra examples (audit canaries) belong to rank 0 only; rank " + comm.rank() + " got " + extras);
        b.reduction(new MpiGradientReduction(comm)).populationSize(population);
        if (config.privacy().noise() == NoiseMode.FAST_INSECURE) {
            long offset = shard instanceof ShardDataset s ? s.offset() : 0;
            b.sampling(RandomSources.counterBased(config.seed(), population, offset, shard.size(), extras, log));
        }
        if (!isLeader()) b.prefetchNoise(false);
    }

    /**
     * Rank 0's answer to "take another step?", on every rank (one one-byte broadcast). Rank 0's trainer
     * decides: its ledger is the durable one (it may hold steps a checkpoint does not), so a rank that
     * could go on stops with it; a rank that cannot take the step rank 0 takes (its step count is
     * exhausted) stops the run with an error rather than hang.
     */
    public boolean continueWithLeader(boolean mine, DpSgdTrainer trainer) {
        byte[] flag = {(byte) (mine ? 1 : 0)};
        comm.broadcast(flag, 0);
        boolean leader = flag[0] != 0;
        if (leader && trainer.stepsDone() >= trainer.totalSteps()) {
            throw new IllegalStateException(
                    "rank " + comm.rank() + " has done all " + trainer.totalSteps() + " steps but rank 0 takes step "
                            + (trainer.stepsDone() + 1) + ": the ranks disagree on the run's length");
        }
        return leader;
    }

    /** The step's statistics summed over all ranks (loss, accuracy, clipping, realised batch size): one small allreduce. */
    public StepResult combine(StepResult r) {
        BatchStats s = r.stats();
        double[] v = {s.samples(), s.lossSum(), s.correct(), s.clipped(), s.normSum(), r.batchSize()};
        comm.allreduceSum(v);
        BatchStats all = new BatchStats(Math.round(v[0]), v[1], Math.round(v[2]), Math.round(v[3]), v[4]);
        return new StepResult(r.step(), all, r::epsilon, r.lr(), (int) Math.round(v[5]), r.deviceCalls(), r.seconds());
    }

    /** Collective after each step: every {@link #checkEvery} steps, compare parameters across ranks. */
    public void afterStep(long step, DpSgdTrainer trainer) {
        if (step % checkEvery == 0) consistency.check(step, trainer.parameters());
    }

    /** Collective once the loop ends on every rank (at the end or at an interruption): a last comparison. */
    public void atEnd(DpSgdTrainer trainer) {
        if (trainer.stepsDone() % checkEvery != 0) consistency.check(trainer.stepsDone(), trainer.parameters());
    }
}
