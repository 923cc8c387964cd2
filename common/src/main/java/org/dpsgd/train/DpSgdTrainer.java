package org.dpsgd.train;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.accounting.LedgerSink;
import org.dpsgd.accounting.PrivacyLedger;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceSgd;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigWarnings;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.config.OptimizerKind;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.data.AugmentationSeeds;
import org.dpsgd.data.BatchAssembler;
import org.dpsgd.data.Dataset;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.optim.LearningRateSchedule;
import org.dpsgd.optim.Optimizer;
import org.dpsgd.optim.Optimizers;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.plan.StaticShapePlanner;
import org.dpsgd.plan.StepPlan;
import org.dpsgd.sampling.BatchSampler;
import org.dpsgd.sampling.PoissonSampler;
import org.dpsgd.sampling.RandomSource;
import org.dpsgd.sampling.RandomSources;
import org.dpsgd.sampling.SamplingMode;
import org.dpsgd.sampling.ShuffleSampler;

/**
 * The one DP-SGD loop shared by every backend (Algorithm 1 of Abadi et al.), in {@link #step}:
 * sample (Poisson) → charge the privacy budget (write-ahead) → clip and sum on the backend →
 * noise → divide by q·N → optimizer update. The mechanism's parameters are one value
 * ({@link DpMechanism}), the budget another ({@link PrivacyBudget}); extra examples (audit
 * canaries) and the cross-process sum of a data-parallel run plug in through
 * {@link ExtraExamples} and {@link GradientReduction}. Not thread-safe; one trainer drives one model.
 */
public final class DpSgdTrainer implements AutoCloseable {
    private final ExperimentConfig config;
    private final Dataset train;
    private final TrainableModel model;
    private final Consumer<String> log;
    private final Consumer<StepPhase> phases;
    private final DpMechanism mechanism; // null when privacy is off
    private final PrivacyBudget budget; // null when privacy is off
    private final NoiseSource noise;
    private final org.dpsgd.noise.NoisePrefetch noisePrefetch;
    private final RandomSource sampling;
    private final BatchSampler sampler;
    private final ExtraExamples extra;
    private final GradientReduction reduction;
    private final GradientScope scope;
    private final StaticShapePlanner planner;
    private final BatchAssembler assembler;
    private final AugmentationSeeds augmentationSeeds;
    private final boolean augmented;
    private final CallFeeder feeder;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final DpSgdStep update;
    private final Evaluator evaluator;
    private final long totalSteps;
    private final double samplingRate;
    private final float[] params;
    private final float[] grad;
    // The step's clipped sum in float64, drained piece by piece (a whole buffer only with extra
    // examples or a model that drains only whole): noise is added to each piece and only then rounded
    // into grad, so that rounding is post-processing (docs/core.md, "Float margin", item 5). Null
    // for the non-private baseline.
    private final PiecewiseNoisySum noisySum;
    // B_cap: the data-independent bound on one step's examples the backend's clip margin is
    // computed for (StepBound); a draw beyond it is refused. 0 when privacy is off.
    private final int stepCap;
    private final Double emaDecay;
    private final float[] ema;
    // The non-private baseline's in-place update on the device (TrainableModel#deviceSgd), or null: the
    // host drains the sum, updates params and writes them back. With it, params is only a cache,
    // stale after each step until current() re-reads it from the model.
    private final DeviceSgd deviceSgd;
    private boolean paramsStale;
    private long step;

    /**
     * Starts a trainer for {@code config} over the private training set {@code train} on {@code model}; unset builder
     * options take the config's values and the secure defaults.
     */
    public static Builder builder(ExperimentConfig config, Dataset train, TrainableModel model) {
        return new Builder(config, train, model);
    }

    private DpSgdTrainer(Builder b) {
        this.config = b.config;
        this.train = b.train;
        this.model = b.model;
        this.log = b.log != null ? b.log : System.err::println;
        this.phases = b.phases != null ? b.phases : p -> {};
        this.extra = b.extra;
        this.reduction = b.reduction != null ? b.reduction : GradientReduction.SINGLE_PROCESS;
        this.scope = model.gradientScope();
        if (scope == GradientScope.RUN && reduction == GradientReduction.SINGLE_PROCESS) {
            // Each process would draw its own noise and keep its own ledger over the same global sum.
            throw new IllegalArgumentException("the model sums gradients across the processes of a data-parallel run "
                    + "on the device, but this trainer has no cross-process reduction; launch it with mpirun/poprun");
        }
        PrivacyConfig p = config.privacy();
        int n = train.size();
        if (n <= 0) throw new IllegalArgumentException("the training set " + train.describe() + " is empty");
        if (!model.network().input().equals(train.shape())) {
            throw new IllegalArgumentException("the model expects inputs "
                    + model.network().input() + " but " + train.describe() + " has " + train.shape());
        }
        long population = b.populationSize > 0 ? b.populationSize : n;
        if (population > Integer.MAX_VALUE)
            throw new IllegalArgumentException("datasets above 2^31 examples are not supported, got " + population);
        this.samplingRate = config.training().samplingRate((int) population);
        this.totalSteps = config.training().totalSteps((int) population);
        ConfigWarnings.check(config, (int) population).forEach(this.log);

        this.noise =
                b.noise != null ? b.noise : NoiseSources.create(p.noise(), config.seed(), this.log, b.prefetchNoise);
        // Seeded noise is never drawn ahead; a source given by the caller is its own business (null: not known here).
        this.noisePrefetch = b.noise != null
                ? null
                : p.noise() == NoiseMode.SECURE ? b.prefetchNoise : org.dpsgd.noise.NoisePrefetch.OFF;
        this.sampling = b.sampling != null
                ? b.sampling
                : p.noise() == NoiseMode.SECURE
                        ? RandomSources.secure()
                        : RandomSources.seeded(config.seed(), this.log);
        if (p.enabled() && p.noise() == NoiseMode.SECURE && !(this.noise.isSecure() && this.sampling.isSecure())) {
            throw new IllegalArgumentException("privacy.noise is secure but an insecure "
                    + (this.noise.isSecure() ? "sampling source" : "noise source")
                    + " was supplied; pass secure sources or set privacy.noise: fast-insecure explicitly");
        }
        if (p.enabled()) {
            ClipPolicy clip = b.clip != null ? b.clip : ClipPolicy.flat(p.clipNorm());
            this.mechanism = new DpMechanism(samplingRate, resolveSigma(p, b.sigma), clip, population);
            if (b.accountants == null)
                throw new IllegalArgumentException(
                        "a private run needs an accountant factory (privacy.accountant: " + p.accountant() + ")");
            this.budget =
                    new PrivacyBudget(b.accountants, b.ledgerSink, mechanism.event(), p.delta(), p.targetEpsilon());
        } else {
            if (b.extra != null)
                throw new IllegalArgumentException("extra examples (audit canaries) need a private run");
            this.mechanism = null;
            this.budget = null;
        }
        int sampled = n + (extra == null ? 0 : extra.count());
        this.sampler = p.sampling() == SamplingMode.SHUFFLE
                ? new ShuffleSampler(sampled, config.training().batchSize(), sampling, this.log)
                : new PoissonSampler(sampled, samplingRate, sampling);
        BatchLayout layout = b.layout != null
                ? b.layout
                : new BatchLayout(
                        config.training().microBatchSize(), config.training().accumulation(), 1);
        this.planner = new StaticShapePlanner(layout, b.maxCalls);
        this.stepCap = mechanism == null ? 0 : stepCap(p, population, layout.slotsPerCall(), b.maxCalls);
        if (mechanism != null) {
            int extras = extra == null ? 0 : extra.count();
            StepBound.check(stepCap, extras, extra == null ? 0 : extra.addsPerCoordinate(), reduction.processes());
            model.boundStepExamples(stepCap);
        }
        // Augmentation is keyed by position in the step, so removing an example moves later examples'
        // crops and flips: secret (DRBG) whenever sampling is, public-seeded only with seeded sampling
        // (AugmentationSeeds says why).
        this.augmentationSeeds =
                this.sampling.isSecure() ? AugmentationSeeds.secret() : AugmentationSeeds.seeded(config.seed());
        this.augmented = config.data().augmentation().enabled();
        this.assembler = new BatchAssembler(
                train,
                config.data().augmentation(),
                augmentationSeeds,
                config.data().loaderThreads());
        this.feeder = new CallFeeder(
                assembler,
                train.shape(),
                layout.slotsPerCall(),
                config.data().augmentation().multiplicity(),
                b.prefetchBatches);
        this.evaluator = new Evaluator(
                model, train.shape(), layout.slotsPerCall(), config.data().loaderThreads());

        int size = Math.toIntExact(model.network().parameterCount());
        TrainableMask mask = TrainableMask.of(model.network(), b.frozenPrefixes);
        this.optimizer = Optimizers.create(config.optimizer(), mask);
        this.schedule = LearningRateSchedule.from(config.optimizer(), totalSteps);
        this.update = new DpSgdStep(noise, optimizer, mask);
        this.params = new float[size];
        this.grad = new float[size];
        this.noisySum = mechanism != null // non-private: drained as float
                ? new PiecewiseNoisySum(model, mask, b.drainPiece, extra != null)
                : null;
        model.readParameters(params);
        this.emaDecay = config.training().ema();
        this.ema = emaDecay == null ? null : params.clone();
        this.deviceSgd = mechanism == null ? nonPrivateDeviceUpdate(config.optimizer(), mask) : null;
    }

    /**
     * The model's in-place device update for the non-private baseline when it offers one and the run
     * needs nothing more than it does (plain SGD on every coordinate, one process, no EMA); else null,
     * and the host updates as in a private run. Logs which path runs and why.
     */
    private DeviceSgd nonPrivateDeviceUpdate(OptimizerConfig o, TrainableMask mask) {
        String hostBecause = null;
        if (o.name() != OptimizerKind.SGD)
            hostBecause = "optimizer " + o.name().name().toLowerCase();
        else if (o.momentum() != 0 || o.weightDecay() != 0) hostBecause = "SGD with momentum or weight decay";
        else if (mask.trainableCount() != mask.size()) hostBecause = "frozen parameters";
        else if (ema != null) hostBecause = "training.ema";
        else if (reduction != GradientReduction.SINGLE_PROCESS || scope != GradientScope.PROCESS)
            hostBecause = "data-parallel run";
        DeviceSgd d = hostBecause == null ? model.deviceSgd().orElse(null) : null;
        if (d == null && hostBecause == null) hostBecause = "the backend has no device update";
        log.accept("non-private update: "
                + (d != null ? "plain SGD in place on the device" : "on the host (" + hostBecause + ")"));
        return d;
    }

    /** {@link #params}, re-read from the model if a device update has changed the parameters since. */
    private float[] current() {
        if (paramsStale) {
            model.readParameters(params);
            paramsStale = false;
        }
        return params;
    }

    /**
     * B_cap for this run, over the examples the backend clips (extra examples are counted apart,
     * by their number): Poisson's tail bound over the whole run's population (a shard's draw is never
     * larger in distribution, so one bound serves every process), the batch size under shuffle
     * sampling, and at most maxCalls·S with a fixed call count (then warns when that is below the
     * Poisson tail bound: the planner refuses larger draws, with a probability the user chose).
     */
    private int stepCap(PrivacyConfig p, long population, int slotsPerCall, int maxCalls) {
        long cap = p.sampling() == SamplingMode.SHUFFLE
                ? config.training().batchSize()
                : StepBound.poisson(population, samplingRate);
        if (maxCalls > 0 && (long) maxCalls * slotsPerCall < cap) {
            // Then the planner's refusal of a draw above maxCalls·S is a data-dependent halt of its own,
            // not the 2^-100 tail of the δ statement (docs/core.md, "Float margin", item 5).
            if (p.sampling() != SamplingMode.SHUFFLE)
                log.accept("warning: maxCalls=" + maxCalls + " holds " + (long) maxCalls * slotsPerCall
                        + " examples per step, below Poisson's 2^-" + StepBound.TAIL_BITS + " tail bound of " + cap
                        + ": a larger draw stops the run (raise maxCalls to make that negligible)");
            cap = (long) maxCalls * slotsPerCall;
        }
        return (int) cap;
    }

    private static double resolveSigma(PrivacyConfig p, Double given) {
        if (given != null) {
            if (p.noiseMultiplier() != null && Double.compare(p.noiseMultiplier(), given) != 0) {
                throw new IllegalArgumentException(
                        "σ=" + given + " was passed but privacy.noise_multiplier is " + p.noiseMultiplier());
            }
            return given;
        }
        if (p.noiseMultiplier() == null) {
            throw new IllegalArgumentException(
                    "privacy.target_epsilon is set: calibrate σ first (NoiseCalibration) and pass it to the trainer");
        }
        return p.noiseMultiplier();
    }

    /** True while fewer than T steps are done and (with a target ε) one more step stays within it. */
    public boolean canStep() {
        return step < totalSteps && (budget == null || budget.allowsAnother());
    }

    /** True when no further step may be taken: the planned steps are done or the ε budget would be exceeded. */
    public boolean isFinished() {
        return !canStep();
    }

    /**
     * True when the reported ε means what it says: private, Poisson sampling, secure noise and sampling,
     * and augmentation (if any) from a secret key.
     */
    public boolean epsilonHolds() {
        return mechanism != null
                && sampler.matchesAccounting()
                && noise.isSecure()
                && sampling.isSecure()
                && (!augmented || augmentationSeeds.isSecret());
    }

    /** One logical step; throws IllegalStateException when {@link #canStep()} is false. */
    public StepResult step() {
        if (step >= totalSteps) throw new IllegalStateException("all " + totalSteps + " steps are done");
        long t0 = System.nanoTime();
        int[] drawn = sampler.next();
        phases.accept(StepPhase.SAMPLED);
        if (budget != null) budget.charge(); // write-ahead: before anything is computed from the drawn batch
        phases.accept(StepPhase.CHARGED);
        int[] examples = datasetExamples(drawn);
        // Planned first (shapes only, nothing computed from the data): a draw that does not fit a fixed
        // maxCalls gets the planner's UserError naming that fix, so the check below can only trip on
        // the tail bound.
        StepPlan plan = planner.plan(examples);
        if (mechanism != null && examples.length > stepCap) {
            // Under Poisson sampling this is the Chernoff tail (StepBound), probability ≤ 2^-100 per step
            // and process (the δ statement, docs/core.md item 5); the clip margin was computed for at most stepCap
            // examples, so a larger step is refused, never run.
            throw new IllegalStateException("step " + (step + 1) + " drew " + examples.length
                    + " examples, above the bound of " + stepCap
                    + " the clipping's float margin is computed for (docs/core.md, \"Float margin\")");
        }
        // The device update takes the sum where it lies; with no examples nothing is updated and the
        // (empty) accumulator is drained as usual.
        boolean onDevice = deviceSgd != null && examples.length > 0;
        BatchStats stats = clippedSum(plan, onDevice);
        if (extra != null) addExtraExamples(drawn);
        phases.accept(StepPhase.SUMMED);
        double lr = schedule.at(step);
        if (mechanism != null) {
            // Exactly one cross-process sum, in float64 and before the noise: by the host here, or
            // already by the device (never both). Then the noise on the float64 global sum, one
            // rounding, and rank 0's noisy sum to every process.
            noisySum.release(
                    scope == GradientScope.PROCESS ? reduction : null,
                    reduction.drawsNoise() ? noise : null,
                    mechanism.noiseStd(),
                    grad);
            reduction.shareNoisySum(grad);
            update.applyPrivate(params, grad, mechanism.expectedBatchSize(), lr);
        } else if (onDevice) {
            deviceSgd.step(examples.length, lr);
            paramsStale = true;
        } else if (deviceSgd != null || !update.nonPrivateUpdate(params, grad, examples.length, lr)) {
            log.accept("step " + (step + 1) + ": empty batch, no update (non-private mode)");
        }
        if (!onDevice) model.writeParameters(current());
        if (ema != null) updateEma();
        phases.accept(StepPhase.UPDATED);
        step++;
        DoubleSupplier eps = budget == null ? () -> Double.POSITIVE_INFINITY : epsilonAfterThisStep();
        return new StepResult(
                step, stats, eps, lr, examples.length, plan.calls().size(), (System.nanoTime() - t0) * 1e-9);
    }

    /**
     * Sums the clipped (or, non-private, raw) per-sample gradients of every device call into {@link #grad}
     * ({@link #noisySum} when private), or, when {@code leaveOnDevice}, leaves the sum in the model's
     * accumulator for {@link #deviceSgd} (drained only if a call fails).
     */
    private BatchStats clippedSum(StepPlan plan, boolean leaveOnDevice) {
        BatchStats[] stats = {BatchStats.EMPTY};
        boolean failed = true;
        if (noisySum != null) noisySum.startAccumulating();
        try {
            feeder.feed(
                    plan.calls(),
                    step,
                    batch -> stats[0] = stats[0].plus(
                            mechanism != null
                                    ? model.accumulateClipped(batch, mechanism.clip())
                                    : model.accumulateUnclipped(batch)));
            failed = false;
        } finally {
            // Drained on failure too: a half-accumulated, un-noised sum must not leak into the next
            // step (an example sampled in both would then count twice). Private: in float64, for the
            // noise to be added before any rounding, piece by piece in step() (on failure now, and
            // anything a later failure leaves is dropped before the next step accumulates); the
            // non-private baseline has no noise, so its sum is rounded by the backend's own (one-pass)
            // float drain, unless the device update takes it where it lies.
            if (noisySum != null) noisySum.finishAccumulating(failed);
            else if (failed || !leaveOnDevice) model.drainGradientSum(grad);
        }
        return stats[0];
    }

    /** The drawn indices that belong to the dataset (extra examples are numbered after it). */
    private int[] datasetExamples(int[] drawn) {
        if (extra == null) return drawn;
        int n = train.size();
        return Arrays.stream(drawn).filter(i -> i < n).toArray();
    }

    private void addExtraExamples(int[] drawn) {
        int n = train.size();
        for (int i : drawn) if (i >= n) extra.addClippedGradient(i - n, noisySum.wholeSum(), mechanism.clip());
    }

    private DoubleSupplier epsilonAfterThisStep() {
        long at = step;
        Supplier<Double> later = budget.epsilonNowLater();
        return () -> step == at ? budget.epsilon() : later.get();
    }

    private void updateEma() {
        float[] params = current();
        double d = emaDecay;
        for (int i = 0; i < ema.length; i++) ema[i] = (float) (d * ema[i] + (1 - d) * params[i]);
    }

    /** Loss and accuracy on {@code test} (no sampling, no privacy cost); EMA parameters too when on. */
    public Evaluation evaluate(Dataset test) {
        BatchStats current = evaluator.evaluate(test);
        BatchStats emaStats = null;
        if (ema != null) {
            model.writeParameters(ema);
            try {
                emaStats = evaluator.evaluate(test);
            } finally {
                model.writeParameters(current());
            }
        }
        return new Evaluation(current, emaStats);
    }

    /** A copy of everything needed to resume; contains no secret key. */
    public TrainerState snapshot() {
        return new TrainerState(
                step,
                current().clone(),
                optimizer.exportState(),
                ema == null ? null : ema.clone(),
                budget != null ? budget.ledger() : List.of(),
                sampler.exportState(),
                noise.exportState(),
                mechanism != null ? mechanism.noiseMultiplier() : Double.NaN,
                samplingRate);
    }

    /** Continues from {@code s} in a freshly built trainer, charging the checkpoint's own ledger. */
    public void restore(TrainerState s) {
        restore(s, s.ledger());
    }

    /**
     * Continues from checkpoint {@code s}, charging {@code charged}: every event an earlier process of
     * this run recorded (the write-ahead ledger), which covers the checkpoint's steps and any steps
     * run after it that this process will now repeat.
     */
    public void restore(TrainerState s, List<DpEvent> charged) {
        if (step != 0 || (budget != null && budget.charged() != 0)) {
            throw new IllegalStateException("restore into a fresh trainer, not one that has taken " + step + " steps");
        }
        if (s.parameters().length != params.length) {
            throw new IllegalArgumentException(
                    "checkpoint has " + s.parameters().length + " parameters, the model has " + params.length);
        }
        if (Double.compare(s.samplingRate(), samplingRate) != 0) {
            throw new IllegalArgumentException("checkpoint was made with sampling rate q=" + s.samplingRate()
                    + ", this run has q=" + samplingRate + " (batch size or dataset size changed)");
        }
        if (mechanism != null && Double.compare(s.noiseMultiplier(), mechanism.noiseMultiplier()) != 0) {
            throw new IllegalArgumentException("checkpoint was made with σ=" + s.noiseMultiplier()
                    + ", this run uses σ=" + mechanism.noiseMultiplier());
        }
        if ((s.ema() == null) != (ema == null)) {
            throw new IllegalArgumentException("checkpoint " + (s.ema() == null ? "has no" : "has an")
                    + " EMA but training.ema is " + (ema == null ? "off" : "on"));
        }
        if (s.step() > totalSteps)
            throw new IllegalArgumentException(
                    "checkpoint is at step " + s.step() + ", beyond the run's " + totalSteps + " steps");
        if (mechanism != null) {
            long inCheckpoint = PrivacyLedger.stepCount(s.ledger());
            if (inCheckpoint < s.step()) {
                throw new IllegalArgumentException("checkpoint at step " + s.step() + " has a privacy ledger of only "
                        + inCheckpoint + " steps; its ε would be understated, so it cannot be resumed");
            }
            if (PrivacyLedger.stepCount(charged) < inCheckpoint) {
                throw new IllegalArgumentException("the privacy ledger holds " + PrivacyLedger.stepCount(charged)
                        + " steps but the checkpoint's " + inCheckpoint
                        + "; the ledger file was truncated or replaced, so the run's ε cannot be trusted");
            }
        }
        optimizer.importState(s.optimizer());
        System.arraycopy(s.parameters(), 0, params, 0, params.length);
        paramsStale = false;
        if (ema != null) System.arraycopy(s.ema(), 0, ema, 0, ema.length);
        if (budget != null) budget.resumeFrom(charged);
        if (sampling.isSecure()) {
            log.accept("resume: sampling re-keyed from the DRBG (secure keys are never saved)");
            if (augmented) log.accept("resume: augmentation re-keyed from the DRBG (secure keys are never saved)");
        } else if (s.sampler() != null) {
            sampler.restoreState(s.sampler());
        } else {
            log.accept(
                    "resume: the checkpoint has no seeded sampler state (it came from a secure run); sampling restarts from the seed");
        }
        if (noise.isSecure()) {
            log.accept("resume: noise re-keyed from the DRBG (secure keys are never saved)");
        } else if (s.noiseCalls() != null) {
            noise.restoreState(s.noiseCalls());
        }
        model.writeParameters(params);
        step = s.step();
    }

    /**
     * Charges the events an earlier process of this run recorded when it died before its first
     * checkpoint: training restarts from step 0, and those steps stay spent.
     */
    public void restoreCharges(List<DpEvent> charged) {
        if (step != 0 || (budget != null && budget.charged() != 0))
            throw new IllegalStateException("restore into a fresh trainer");
        if (budget != null) budget.resumeFrom(charged);
        else if (!charged.isEmpty())
            throw new IllegalArgumentException("a non-private run has no privacy ledger to resume");
    }

    /** Logical steps taken so far (a resumed run counts from its checkpoint). */
    public long stepsDone() {
        return step;
    }
    /** Logical steps the run is planned for. */
    public long totalSteps() {
        return totalSteps;
    }
    /** Poisson sampling rate q = B/N of every step. */
    public double samplingRate() {
        return samplingRate;
    }
    /** σ in use (NaN when privacy is off). */
    public double noiseMultiplier() {
        return mechanism != null ? mechanism.noiseMultiplier() : Double.NaN;
    }
    /** The private mechanism, or null when privacy is off. */
    public DpMechanism mechanism() {
        return mechanism;
    }
    /** The privacy budget, or null when privacy is off. */
    public PrivacyBudget budget() {
        return budget;
    }
    /** True when steps clip, add noise and are charged to the budget. */
    public boolean isPrivate() {
        return mechanism != null;
    }
    /** The noise source of the private steps (secure unless the config asks for fast-insecure). */
    public NoiseSource noise() {
        return noise;
    }

    /**
     * How this trainer's secure noise is drawn ahead (backend setting {@code noise_prefetch}, resolved); null when the
     * caller supplied the noise source. For provenance: the values do not depend on it.
     */
    public org.dpsgd.noise.NoisePrefetch noisePrefetch() {
        return noisePrefetch;
    }
    /** B_cap: the most examples one step may hold, as given to the model (0 when privacy is off). */
    public int stepCap() {
        return stepCap;
    }
    /** The fixed shape of every device call this trainer makes. */
    public BatchLayout layout() {
        return planner.layout();
    }
    /** ε of every step charged so far, repeated ones included (+∞ when privacy is off). */
    public double epsilon() {
        return budget != null ? budget.epsilon() : Double.POSITIVE_INFINITY;
    }
    /** Noisy steps charged so far (a resumed run's repeated steps included); 0 when privacy is off. */
    public long stepsCharged() {
        return budget != null ? budget.charged() : 0;
    }
    /** A copy of the current parameters (read back from the model after device updates). */
    public float[] parameters() {
        return current().clone();
    }
    /** A copy of the EMA parameters, or null when EMA is off. */
    public float[] emaParameters() {
        return ema == null ? null : ema.clone();
    }

    @Override
    public void close() {
        try {
            feeder.close();
        } finally {
            assembler.close();
        }
    }

    /** Optional settings; everything not set comes from the config. */
    public static final class Builder {
        private final ExperimentConfig config;
        private final Dataset train;
        private final TrainableModel model;
        private Supplier<Accountant> accountants;
        private LedgerSink ledgerSink;
        private NoiseSource noise;
        private RandomSource sampling;
        private Consumer<String> log;
        private Consumer<StepPhase> phases;
        private Double sigma;
        private ClipPolicy clip;
        private BatchLayout layout;
        private int maxCalls;
        private List<String> frozenPrefixes = List.of();
        private org.dpsgd.noise.NoisePrefetch prefetchNoise = org.dpsgd.noise.NoisePrefetch.OFF;
        private int drainPiece = PiecewiseNoisySum.DEFAULT_PIECE;
        private boolean prefetchBatches;
        private ExtraExamples extra;
        private GradientReduction reduction;
        private long populationSize;

        private Builder(ExperimentConfig config, Dataset train, TrainableModel model) {
            this.config = config;
            this.train = train;
            this.model = model;
        }

        /** Fresh accountants of the run's kind (required when private): one holds the run's ledger, others answer budget questions. */
        public Builder accountants(Supplier<Accountant> f) {
            this.accountants = f;
            return this;
        }
        /** Where each step's event is durably recorded before the step runs (default: nowhere durable). */
        public Builder ledgerSink(LedgerSink s) {
            this.ledgerSink = s;
            return this;
        }
        /** Noise to use instead of the one privacy.noise names; {@link #build} refuses an insecure one when privacy.noise is secure. */
        public Builder noise(NoiseSource n) {
            this.noise = n;
            return this;
        }
        /** Sampling randomness to use instead of privacy.noise's; {@link #build} refuses an insecure one when privacy.noise is secure. */
        public Builder sampling(RandomSource r) {
            this.sampling = r;
            return this;
        }
        /** Where notices and warnings go (default: standard error). */
        public Builder log(Consumer<String> l) {
            this.log = l;
            return this;
        }
        /** Told of each {@link StepPhase} as a step passes it. */
        public Builder phaseListener(Consumer<StepPhase> l) {
            this.phases = l;
            return this;
        }
        /** σ to use (the calibrated one when the config gives a target ε). */
        public Builder noiseMultiplier(double s) {
            this.sigma = s;
            return this;
        }
        /** Per-layer clipping; default: flat at privacy.clip_norm. */
        public Builder clipPolicy(ClipPolicy c) {
            this.clip = c;
            return this;
        }
        /** The backend's layout (Backend.layoutFor); default: config micro-batch and accumulation, 1 replica. */
        public Builder layout(BatchLayout l) {
            this.layout = l;
            return this;
        }
        /** Fixed number of device calls per step (0 = as many as the batch needs). */
        public Builder maxCalls(int m) {
            this.maxCalls = m;
            return this;
        }
        /** Parameter-name prefixes to freeze: no gradient, no noise, no update. */
        public Builder frozenPrefixes(List<String> f) {
            this.frozenPrefixes = List.copyOf(f);
            return this;
        }
        /** Draw the next step's secure noise in the background (worth it when the backend leaves host cores idle). */
        public Builder prefetchNoise(boolean p) {
            return prefetchNoise(p ? org.dpsgd.noise.NoisePrefetch.ON : org.dpsgd.noise.NoisePrefetch.OFF);
        }

        /**
         * How the next step's secure noise is drawn ahead ({@link org.dpsgd.noise.NoisePrefetch}; the backend
         * setting {@code noise_prefetch}, resolved for the backend by {@code NoisePrefetch.from}).
         */
        public Builder prefetchNoise(org.dpsgd.noise.NoisePrefetch p) {
            this.prefetchNoise = java.util.Objects.requireNonNull(p, "noise prefetch");
            return this;
        }
        /**
         * Coordinates per piece of a private step's float64 drain, cross-process sum and noise (a
         * positive multiple of {@link org.dpsgd.noise.GaussianDraw#ALIGNMENT}; default {@link
         * PiecewiseNoisySum#DEFAULT_PIECE}); the released values do not depend on it. Every process
         * of a data-parallel run must use the same.
         */
        public Builder drainPiece(int coordinates) {
            this.drainPiece = coordinates;
            return this;
        }
        /** Assemble the next device call's batch in the background while the current one computes (for accelerators). */
        public Builder prefetchBatches(boolean p) {
            this.prefetchBatches = p;
            return this;
        }
        /** Examples sampled with the dataset but clipped on the host (audit canaries). */
        public Builder extraExamples(ExtraExamples e) {
            this.extra = e;
            return this;
        }
        /** How the processes of a data-parallel run sum their clipped sums (default: one process). */
        public Builder reduction(GradientReduction r) {
            this.reduction = r;
            return this;
        }
        /** N of the whole run when {@code train} is this process's shard (q = B/N and the divisor q·N use it). */
        public Builder populationSize(long n) {
            this.populationSize = n;
            return this;
        }

        /** N of the whole run as set so far (the training set's size when not set). */
        long populationSizeOr(long datasetSize) {
            return populationSize > 0 ? populationSize : datasetSize;
        }

        /** The trainer; throws IllegalArgumentException when the config and options do not fit together. */
        public DpSgdTrainer build() {
            return new DpSgdTrainer(this);
        }
    }
}
