package org.dpsgd.train;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigWarnings;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.data.BatchAssembler;
import org.dpsgd.data.Dataset;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.optim.LearningRateSchedule;
import org.dpsgd.optim.Optimizer;
import org.dpsgd.optim.Optimizers;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.plan.DeviceCall;
import org.dpsgd.plan.StaticShapePlanner;
import org.dpsgd.plan.StepPlan;
import org.dpsgd.sampling.BatchSampler;
import org.dpsgd.sampling.PoissonSampler;
import org.dpsgd.sampling.RandomSource;
import org.dpsgd.sampling.RandomSources;
import org.dpsgd.sampling.ShuffleSampler;

/**
 * The one DP-SGD loop shared by every backend: sample (Poisson) → plan static-shape device calls
 * → assemble each call → backend clips and sums per-sample gradients → {@link DpSgdStep} (noise,
 * divide by q·N, optimizer) → write parameters → compose the step into the accountant.
 *
 * <p>Budget rule: with a target ε, {@link #canStep()} is false when composing one more step would
 * push ε above the target (checked on fresh accountants before the step, never after), so the
 * run stops before crossing it. Not thread-safe; one trainer drives one model.
 */
public final class DpSgdTrainer implements AutoCloseable {
    private final ExperimentConfig config;
    private final Dataset train;
    private final TrainableModel model;
    private final Accountant accountant;
    private final Supplier<Accountant> freshAccountant;
    private final NoiseSource noise;
    private final RandomSource sampling;
    private final Consumer<String> log;
    private final boolean isPrivate;
    private final double clipNorm;
    private final double sigma;
    private final double delta;
    private final Double targetEpsilon;
    private final double samplingRate;
    private final long totalSteps;
    private final BatchSampler sampler;
    private final StaticShapePlanner planner;
    private final BatchAssembler assembler;
    private final DeviceBatch batch;
    private final TrainableMask mask;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;
    private final DpSgdStep update;
    private final float[] params;
    private final float[] grad;
    private final Double emaDecay;
    private final float[] ema;
    private long step;
    private long allowedSteps = -1; // with a target ε: total steps within the budget; -1 = not yet computed

    /** σ from the config's privacy.noise_multiplier; layout from training.micro_batch_size/accumulation, 1 replica. */
    public DpSgdTrainer(ExperimentConfig config, Dataset train, TrainableModel model, Accountant accountant,
                        NoiseSource noise, RandomSource sampling, Consumer<String> log) {
        this(builder(config, train, model).accountant(accountant).noise(noise).sampling(sampling).log(log));
    }

    public static Builder builder(ExperimentConfig config, Dataset train, TrainableModel model) {
        return new Builder(config, train, model);
    }

    private DpSgdTrainer(Builder b) {
        this.config = b.config;
        this.train = b.train;
        this.model = b.model;
        this.log = b.log != null ? b.log : System.err::println;
        PrivacyConfig p = config.privacy();
        this.isPrivate = p.enabled();
        int n = train.size();
        if (n <= 0) throw new IllegalArgumentException("the training set " + train.describe() + " is empty");
        if (!model.network().input().equals(train.shape())) {
            throw new IllegalArgumentException("the model expects inputs " + model.network().input() + " but " + train.describe()
                    + " has " + train.shape());
        }
        this.samplingRate = config.training().samplingRate(n);
        this.totalSteps = config.training().totalSteps(n);
        ConfigWarnings.check(config, n).forEach(this.log);

        this.noise = b.noise != null ? b.noise : NoiseSources.create(p.noise(), config.seed(), this.log, b.prefetchNoise);
        this.sampling = b.sampling != null ? b.sampling : RandomSources.create(p.noise(), config.seed(), this.log);
        if (isPrivate && p.noise().equals("secure") && !(this.noise.isSecure() && this.sampling.isSecure())) {
            throw new IllegalArgumentException("privacy.noise is secure but an insecure " + (this.noise.isSecure() ? "sampling source" : "noise source")
                    + " was supplied; pass secure sources or set privacy.noise: fast-insecure explicitly");
        }
        if (isPrivate) {
            if (b.accountant == null) throw new IllegalArgumentException("a private run needs an accountant (privacy.accountant: " + p.accountant() + ")");
            if (!b.accountant.ledger().isEmpty()) {
                throw new IllegalArgumentException("the accountant already holds " + b.accountant.ledger().size()
                        + " events; give the trainer a fresh one (resume with restore(state))");
            }
            this.clipNorm = p.clipNorm();
            this.delta = p.delta();
            this.targetEpsilon = p.targetEpsilon();
            this.sigma = resolveSigma(p, b.sigma);
            if (targetEpsilon != null && b.freshAccountant == null) {
                throw new IllegalArgumentException("privacy.target_epsilon needs an accountant factory (builder.accountantFactory) "
                        + "so the trainer can check the budget before each step");
            }
        } else {
            this.clipNorm = Double.NaN;
            this.delta = Double.NaN;
            this.targetEpsilon = null;
            this.sigma = Double.NaN;
        }
        this.accountant = b.accountant;
        this.freshAccountant = b.freshAccountant;

        this.sampler = p.sampling().equals("shuffle")
                ? new ShuffleSampler(n, config.training().batchSize(), sampling, this.log)
                : new PoissonSampler(n, samplingRate, sampling);
        BatchLayout layout = b.layout != null ? b.layout
                : new BatchLayout(config.training().microBatchSize(), config.training().accumulation(), 1);
        this.planner = new StaticShapePlanner(layout, b.maxCalls);
        this.assembler = new BatchAssembler(train, config.data().augmentation(), config.seed(), config.data().loaderThreads());
        this.batch = new DeviceBatch(train.shape(), layout.slotsPerCall(), config.data().augmentation().multiplicity());

        int size = Math.toIntExact(model.network().parameterCount());
        this.mask = TrainableMask.of(model.network(), b.frozenPrefixes);
        this.optimizer = Optimizers.create(config.optimizer(), mask);
        this.schedule = LearningRateSchedule.from(config.optimizer(), totalSteps);
        this.update = new DpSgdStep(noise, optimizer, mask);
        this.params = new float[size];
        this.grad = new float[size];
        model.readParameters(params);
        this.emaDecay = config.training().ema();
        this.ema = emaDecay == null ? null : params.clone();
    }

    private static double resolveSigma(PrivacyConfig p, Double given) {
        if (given != null) {
            if (!(given > 0) || Double.isInfinite(given)) throw new IllegalArgumentException("noise multiplier σ must be finite and > 0, got " + given);
            if (p.noiseMultiplier() != null && Double.compare(p.noiseMultiplier(), given) != 0) {
                throw new IllegalArgumentException("σ=" + given + " was passed but privacy.noise_multiplier is " + p.noiseMultiplier());
            }
            return given;
        }
        if (p.noiseMultiplier() == null) {
            throw new IllegalArgumentException("privacy.target_epsilon is set: calibrate σ first (NoiseCalibration) and pass it to the trainer");
        }
        return p.noiseMultiplier();
    }

    /** True while fewer than T steps are done and (with a target ε) one more step stays within it. */
    public boolean canStep() {
        return step < totalSteps && budgetAllowsNext();
    }

    public boolean isFinished() {
        return !canStep();
    }

    /** True when the reported ε means what it says: private, Poisson sampling, secure noise and sampling. */
    public boolean epsilonHolds() {
        return isPrivate && sampler.matchesAccounting() && noise.isSecure() && sampling.isSecure();
    }

    private boolean budgetAllowsNext() {
        if (!isPrivate || targetEpsilon == null) return true;
        if (allowedSteps < 0) allowedSteps = stepsWithinBudget();
        return step < allowedSteps;
    }

    /**
     * The largest total step count whose ε stays within the target, found once by bisection over
     * fresh accountants (every step composes the same event and ε grows with the count, so this is
     * exactly the per-step "would one more step exceed it?" check, without replaying it each step).
     */
    private long stepsWithinBudget() {
        long remaining = totalSteps - step;
        if (remaining <= 0 || epsilonWithMore(1) > targetEpsilon) return step;
        long lo = 1, hi = remaining; // invariant: ε(lo) within the target
        if (epsilonWithMore(hi) <= targetEpsilon) return step + hi;
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (epsilonWithMore(mid) <= targetEpsilon) lo = mid;
            else hi = mid;
        }
        return step + lo;
    }

    /** ε after everything composed so far plus {@code more} further steps, from a fresh accountant. */
    private double epsilonWithMore(long more) {
        Accountant whatIf = freshAccountant.get();
        for (DpEvent e : accountant.ledger()) whatIf.compose(e);
        whatIf.compose(new DpEvent.SelfComposed(stepEvent(), more));
        return whatIf.epsilon(delta);
    }

    private DpEvent stepEvent() {
        return DpEvent.dpSgdStep(samplingRate, sigma);
    }

    /** One logical step; throws IllegalStateException when {@link #canStep()} is false. */
    public StepResult step() {
        if (step >= totalSteps) throw new IllegalStateException("all " + totalSteps + " steps are done");
        if (!budgetAllowsNext()) {
            throw new IllegalStateException("privacy budget: one more step would reach ε=" + epsilonWithMore(1)
                    + " > target " + targetEpsilon + " (δ=" + delta + "); stopping after " + step + " steps");
        }
        long t0 = System.nanoTime();
        int[] examples = sampler.next();
        StepPlan plan = planner.plan(examples);
        BatchStats stats = BatchStats.EMPTY;
        try {
            for (DeviceCall call : plan.calls()) {
                assembler.assemble(call, batch, step);
                stats = stats.plus(isPrivate ? model.accumulateClipped(batch, clipNorm) : model.accumulateUnclipped(batch));
            }
        } catch (RuntimeException e) {
            // A half-accumulated, un-noised sum must not leak into the next step (an example sampled
            // in both would then count twice): discard it before reporting the failure.
            model.drainGradientSum(grad);
            throw e;
        }
        model.drainGradientSum(grad);
        double lr = schedule.at(step);
        if (isPrivate) {
            update.privateUpdate(params, grad, clipNorm, sigma, samplingRate * train.size(), lr);
        } else if (!update.nonPrivateUpdate(params, grad, examples.length, lr)) {
            log.accept("step " + (step + 1) + ": empty batch, no update (non-private mode)");
        }
        model.writeParameters(params);
        if (ema != null) updateEma();
        DoubleSupplier eps = () -> Double.POSITIVE_INFINITY;
        if (isPrivate) {
            accountant.compose(stepEvent());
            eps = epsilonAt(step + 1);
        }
        step++;
        return new StepResult(step, stats, eps, lr, examples.length, plan.calls().size(), (System.nanoTime() - t0) * 1e-9);
    }

    /** ε after step {@code at}: from the run's accountant while it is still there, else replayed from a ledger copy. */
    private DoubleSupplier epsilonAt(long at) {
        List<DpEvent> ledgerThen = accountant.ledger();
        return () -> {
            if (step == at) return accountant.epsilon(delta);
            if (freshAccountant == null) {
                throw new IllegalStateException("StepResult.epsilon() of step " + at + " was read after step " + step
                        + "; read it before the next step or give the trainer an accountant factory");
            }
            Accountant a = freshAccountant.get();
            ledgerThen.forEach(a::compose);
            return a.epsilon(delta);
        };
    }

    private void updateEma() {
        double d = emaDecay;
        for (int i = 0; i < ema.length; i++) ema[i] = (float) (d * ema[i] + (1 - d) * params[i]);
    }

    /** Loss and accuracy on {@code test} (no sampling, no privacy cost); EMA parameters too when on. */
    public Evaluation evaluate(Dataset test) {
        if (!test.shape().equals(train.shape())) {
            throw new IllegalArgumentException("test set shape " + test.shape() + " differs from the training set's " + train.shape());
        }
        BatchStats current = evaluateCurrent(test);
        BatchStats emaStats = null;
        if (ema != null) {
            model.writeParameters(ema);
            try {
                emaStats = evaluateCurrent(test);
            } finally {
                model.writeParameters(params);
            }
        }
        return new Evaluation(current, emaStats);
    }

    private BatchStats evaluateCurrent(Dataset test) {
        int slots = planner.layout().slotsPerCall();
        DeviceBatch eval = new DeviceBatch(test.shape(), slots, 1);
        BatchAssembler plain = new BatchAssembler(test, org.dpsgd.config.AugmentationConfig.NONE, 0, config.data().loaderThreads());
        try (plain) {
            BatchStats total = BatchStats.EMPTY;
            int[] ids = new int[slots];
            for (int start = 0; start < test.size(); start += slots) {
                for (int k = 0; k < slots; k++) ids[k] = start + k < test.size() ? start + k : -1;
                plain.assemblePlain(ids, eval);
                total = total.plus(model.evaluate(eval));
            }
            return total;
        }
    }

    /** A copy of everything needed to resume; contains no secret key. */
    public TrainerState snapshot() {
        return new TrainerState(step, params.clone(), optimizer.exportState(), ema == null ? null : ema.clone(),
                isPrivate ? accountant.ledger() : List.of(), sampler.exportState(), noise.exportState(),
                isPrivate ? sigma : Double.NaN, samplingRate);
    }

    /** Continues from {@code s} in a freshly built trainer (fresh accountant, same config). */
    public void restore(TrainerState s) {
        if (step != 0) throw new IllegalStateException("restore into a fresh trainer, not one that has taken " + step + " steps");
        if (s.parameters().length != params.length) {
            throw new IllegalArgumentException("checkpoint has " + s.parameters().length + " parameters, the model has " + params.length);
        }
        if (Double.compare(s.samplingRate(), samplingRate) != 0) {
            throw new IllegalArgumentException("checkpoint was made with sampling rate q=" + s.samplingRate() + ", this run has q=" + samplingRate
                    + " (batch size or dataset size changed)");
        }
        if (isPrivate && Double.compare(s.noiseMultiplier(), sigma) != 0) {
            throw new IllegalArgumentException("checkpoint was made with σ=" + s.noiseMultiplier() + ", this run uses σ=" + sigma);
        }
        if ((s.ema() == null) != (ema == null)) {
            throw new IllegalArgumentException("checkpoint " + (s.ema() == null ? "has no" : "has an") + " EMA but training.ema is "
                    + (ema == null ? "off" : "on"));
        }
        if (s.step() > totalSteps) throw new IllegalArgumentException("checkpoint is at step " + s.step() + ", beyond the run's " + totalSteps + " steps");
        optimizer.importState(s.optimizer());
        System.arraycopy(s.parameters(), 0, params, 0, params.length);
        if (ema != null) System.arraycopy(s.ema(), 0, ema, 0, ema.length);
        if (isPrivate) s.ledger().forEach(accountant::compose);
        if (sampling.isSecure()) {
            log.accept("resume: sampling re-keyed from the DRBG (secure keys are never saved)");
        } else if (s.sampler() != null) {
            sampler.restoreState(s.sampler());
        } else {
            log.accept("resume: the checkpoint has no seeded sampler state (it came from a secure run); sampling restarts from the seed");
        }
        if (noise.isSecure()) {
            log.accept("resume: noise re-keyed from the DRBG (secure keys are never saved)");
        } else if (s.noiseCalls() != null) {
            noise.restoreState(s.noiseCalls());
        }
        model.writeParameters(params);
        step = s.step();
        allowedSteps = -1;
    }

    public long stepsDone() { return step; }
    public long totalSteps() { return totalSteps; }
    public double samplingRate() { return samplingRate; }
    /** σ in use (NaN when privacy is off). */
    public double noiseMultiplier() { return sigma; }
    public boolean isPrivate() { return isPrivate; }
    public NoiseSource noise() { return noise; }
    public BatchLayout layout() { return planner.layout(); }
    /** ε spent so far (+∞ when privacy is off). */
    public double epsilon() { return isPrivate ? accountant.epsilon(delta) : Double.POSITIVE_INFINITY; }
    /** A copy of the current parameters. */
    public float[] parameters() { return params.clone(); }
    /** A copy of the EMA parameters, or null when EMA is off. */
    public float[] emaParameters() { return ema == null ? null : ema.clone(); }

    @Override
    public void close() {
        assembler.close();
    }

    /** Optional settings; everything not set comes from the config. */
    public static final class Builder {
        private final ExperimentConfig config;
        private final Dataset train;
        private final TrainableModel model;
        private Accountant accountant;
        private Supplier<Accountant> freshAccountant;
        private NoiseSource noise;
        private RandomSource sampling;
        private Consumer<String> log;
        private Double sigma;
        private BatchLayout layout;
        private int maxCalls;
        private List<String> frozenPrefixes = List.of();
        private boolean prefetchNoise;

        private Builder(ExperimentConfig config, Dataset train, TrainableModel model) {
            this.config = config;
            this.train = train;
            this.model = model;
        }

        /** The run's accountant; must be empty (a resumed run gets its ledger from restore). */
        public Builder accountant(Accountant a) { this.accountant = a; return this; }
        /** Fresh accountants of the same kind, for the before-the-step budget check with a target ε. */
        public Builder accountantFactory(Supplier<Accountant> f) { this.freshAccountant = f; return this; }
        public Builder noise(NoiseSource n) { this.noise = n; return this; }
        public Builder sampling(RandomSource r) { this.sampling = r; return this; }
        public Builder log(Consumer<String> l) { this.log = l; return this; }
        /** σ to use (the calibrated one when the config gives a target ε). */
        public Builder noiseMultiplier(double s) { this.sigma = s; return this; }
        /** The backend's layout (Backend.layoutFor); default: config micro-batch and accumulation, 1 replica. */
        public Builder layout(BatchLayout l) { this.layout = l; return this; }
        /** Fixed number of device calls per step (0 = as many as the batch needs). */
        public Builder maxCalls(int m) { this.maxCalls = m; return this; }
        public Builder frozenPrefixes(List<String> f) { this.frozenPrefixes = List.copyOf(f); return this; }
        /** Draw the next step's secure noise in the background (worth it when the backend leaves host cores idle). */
        public Builder prefetchNoise(boolean p) { this.prefetchNoise = p; return this; }

        public DpSgdTrainer build() { return new DpSgdTrainer(this); }
    }
}
