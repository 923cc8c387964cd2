package org.dpsgd.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicies;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.PerLayerClipping;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.model.Network;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.train.PiecewiseNoisySum;

/**
 * Times full training steps of several strategies on one fixed batch. A step is the gradient
 * (clipped per sample, or the plain sum for "nonprivate"), Gaussian noise of std σ·C on every
 * coordinate (private strategies only) and a plain SGD update through the host parameter vector,
 * as the trainer does. Warm-up runs strategy by strategy, by default until the JIT is quiet
 * ({@link JitWarmUp}); each one's peak memory is read over its first {@link #PEAK_STEPS} warm-up
 * steps. Timed steps then rotate through the strategies in blocks of consecutive steps, so a change
 * in machine load (the machine may be shared) hits every strategy alike and the ratios stay fair.
 * Secure noise draws the next step's noise in the background while the next gradient runs; a block
 * ends by waiting for that draw and charging the wait to the block, so no strategy's background
 * work lands in another's timing. A strategy's time is the median over its blocks of the block's
 * mean step time.
 */
final class BenchRun {
    private final Backend backend;
    private final Network network;
    private final DeviceBatch batch;
    private final NoiseSource noise;
    private final double sigma;
    private final double clip;
    private final Map<String, String> settings;

    BenchRun(
            Backend backend,
            Network network,
            DeviceBatch batch,
            NoiseSource noise,
            double sigma,
            double clip,
            Map<String, String> settings) {
        this.backend = backend;
        this.network = network;
        this.batch = batch;
        this.noise = noise;
        this.sigma = sigma;
        this.clip = clip;
        this.settings = settings;
    }

    /** Suffix of a strategy name that asks for per-layer clipping (equal split per tensor, same total C), e.g. auto+per_layer. */
    static final String PER_LAYER = "+per_layer";

    /** Separates a row's strategy from its precision (auto@bf16): the model is made with that precision setting. */
    static final String AT = "@";

    /** The precision a row label names after {@link #AT}, if any. */
    static java.util.Optional<String> precisionOf(String label) {
        int at = label.indexOf(AT);
        return at < 0 ? java.util.Optional.empty() : java.util.Optional.of(label.substring(at + 1));
    }

    /** Per-strategy state: the model, its host parameters, and the timings. */
    private final class Subject {
        final String strategy; // the row label: strategy[+per_layer][@precision]
        final boolean nonPrivate;
        final TrainableModel model;
        final ClipPolicy policy;
        final float[] params;
        final float[] grad;
        final PiecewiseNoisySum noisySum; // null for "nonprivate"
        // The trainer's non-private update when the model has one: plain SGD in place on the device
        // (no drain, no host update, no parameter write); null: the host round trip below.
        final org.dpsgd.backend.DeviceSgd deviceSgd;
        final double[] stepMs;
        final double[] gradMs;
        final double[] noiseMs;
        final List<double[]> blocks = new ArrayList<>(); // {step, grad, noise} means per block
        // The process's CPU time over every timed block (all threads), and those blocks' steps: a mean, since the OS
        // counts CPU time in ticks too coarse for one short block.
        double cpuMs;
        int cpuSteps;
        double peakMb = Double.NaN;

        Subject(String strategy, int steps) {
            this.strategy = strategy;
            java.util.Optional<String> precision = precisionOf(strategy);
            String name = precision.isEmpty() ? strategy : strategy.substring(0, strategy.indexOf(AT));
            Map<String, String> modelSettings = settings;
            if (precision.isPresent()) {
                modelSettings = new java.util.LinkedHashMap<>(settings);
                modelSettings.put("precision", precision.get());
            }
            boolean perLayer = name.endsWith(PER_LAYER);
            String base = perLayer ? name.substring(0, name.length() - PER_LAYER.length()) : name;
            this.nonPrivate = base.equals("nonprivate");
            this.model = backend.createModel(
                    network, new ModelOptions(base, BatchLayout.of(batch.slots()), List.of(), modelSettings));
            this.policy = perLayer
                    ? ClipPolicies.from(
                            PrivacyConfig.withSigma(clip, sigma, 1e-5).withClipping(PerLayerClipping.DEFAULT),
                            network,
                            List.of())
                    : ClipPolicy.flat(clip);
            int n = Math.toIntExact(network.parameterCount());
            this.params = new float[n];
            this.grad = new float[n];
            this.noisySum = nonPrivate
                    ? null
                    : new PiecewiseNoisySum(model, TrainableMask.all(n), PiecewiseNoisySum.DEFAULT_PIECE, false);
            this.deviceSgd = nonPrivate ? model.deviceSgd().orElse(null) : null;
            this.stepMs = new double[steps];
            this.gradMs = new double[steps];
            this.noiseMs = new double[steps];
            model.readParameters(params);
        }

        void step(int index) {
            long t0 = System.nanoTime();
            if (nonPrivate) {
                model.accumulateUnclipped(batch);
                if (deviceSgd != null) {
                    // As the trainer's non-private step on such a model: the same SGD at 0.01 / slots, in place.
                    long t1 = System.nanoTime();
                    deviceSgd.step(batch.slots(), 0.01);
                    record(index, t0, t1, t1, System.nanoTime());
                    return;
                }
            } else {
                noisySum.startAccumulating();
                boolean failed = true;
                try {
                    model.accumulateClipped(batch, policy);
                    failed = false;
                } finally {
                    noisySum.finishAccumulating(failed);
                }
            }
            // As the trainer: private sums drained in float64 piece by piece, each piece's noise added
            // and rounded once after it (so the drain is timed with the noise); the non-private
            // baseline drained as float (no noise, nothing to round after).
            if (nonPrivate) model.drainGradientSum(grad);
            long t1 = System.nanoTime();
            if (!nonPrivate) noisySum.release(null, noise, sigma * policy.sensitivity(), grad);
            long t2 = System.nanoTime();
            float scale = (float) (0.01 / batch.slots());
            for (int k = 0; k < params.length; k++) params[k] -= scale * grad[k];
            model.writeParameters(params);
            record(index, t0, t1, t2, System.nanoTime());
        }

        /** Step i's times (index < 0: a warm-up step, not recorded): t0 start, t1 summed, t2 noised, t3 updated. */
        private void record(int index, long t0, long t1, long t2, long t3) {
            if (index >= 0) {
                stepMs[index] = (t3 - t0) / 1e6;
                gradMs[index] = (t1 - t0) / 1e6;
                noiseMs[index] = (t2 - t1) / 1e6;
            }
        }

        /** Runs steps [from, from + n) back to back, then waits for background noise and charges it to this block. */
        void block(int from, int n) {
            long cpu0 = processCpuNanos();
            boolean cpuKnown = cpu0 >= 0;
            for (int i = from; i < from + n; i++) step(i);
            long t0 = System.nanoTime();
            noise.awaitPrefetch();
            double settleMs = (System.nanoTime() - t0) / 1e6;
            long cpu1 = processCpuNanos();
            if (cpuKnown && cpu1 >= 0) {
                cpuMs += (cpu1 - cpu0) / 1e6;
                cpuSteps += n;
            }
            double step = settleMs, grad = 0, noiseSum = settleMs;
            for (int i = from; i < from + n; i++) {
                step += stepMs[i];
                grad += gradMs[i];
                noiseSum += noiseMs[i];
            }
            blocks.add(new double[] {step / n, grad / n, noiseSum / n});
        }

        BenchResult result() {
            double m = median(column(0));
            return new BenchResult(
                    strategy,
                    m,
                    batch.slots() * 1000.0 / m,
                    Double.NaN,
                    peakMb,
                    median(column(1)),
                    median(column(2)),
                    cpuSteps == 0 ? Double.NaN : cpuMs / cpuSteps);
        }

        private double[] column(int c) {
            return blocks.stream().mapToDouble(b -> b[c]).toArray();
        }
    }

    /** How each strategy warms up: a fixed number of steps, or until the JIT is quiet ({@link JitWarmUp}). */
    record WarmUp(int steps, double capSeconds) {
        /** The default: at least {@link #PEAK_STEPS} steps, then until the JIT is quiet, at most 120 s a strategy. */
        static final WarmUp AUTO = new WarmUp(-1, 120);

        static WarmUp fixed(int steps) {
            if (steps < 0) throw new IllegalArgumentException("--warmup must be >= 0 or auto, got " + steps);
            return new WarmUp(steps, 0);
        }

        boolean untilJitQuiet() {
            return steps < 0;
        }

        /** As the bench's --warmup option reads: "auto", or a step count. */
        static WarmUp parse(String text) {
            String t = text.trim();
            if (t.equalsIgnoreCase("auto")) return AUTO;
            try {
                return fixed(Integer.parseInt(t));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--warmup must be auto or a number of steps, got '" + text + "'");
            }
        }

        /** The step count a fixed-count consumer (noise-only, data-only, allreduce, the peer) uses for AUTO. */
        int stepsOr(int forAuto) {
            return untilJitQuiet() ? forAuto : steps;
        }
    }

    /**
     * Steps over which a strategy's peak memory is read, from its first warm-up step: its tensors reach their high
     * water mark in the first step, and later warm-up steps would add only the JVM heap's growth from garbage.
     */
    static final int PEAK_STEPS = 2;

    /** Each strategy's warm-up, in order, for the footer; and the JIT's milliseconds during the timed steps. */
    final List<String> warmUps = new ArrayList<>();

    long timedJitMillis = -1;

    List<BenchResult> run(
            List<String> strategies,
            WarmUp warmUp,
            int steps,
            int block,
            java.util.function.Consumer<String> progress) {
        if (block < 1) throw new IllegalArgumentException("--block must be >= 1, got " + block);
        List<Subject> subjects = new ArrayList<>();
        try {
            for (String s : strategies) {
                progress.accept("warming up " + s + (warmUp.untilJitQuiet() ? " until the JIT is quiet" : ""));
                // Each strategy's peak is its own: memory an earlier strategy's allocator kept goes back first.
                backend.releaseFreeMemory();
                BenchMemory.resetPeak();
                Subject subject = new Subject(s, steps);
                subjects.add(subject);
                int first = warmUp.untilJitQuiet() ? PEAK_STEPS : Math.min(PEAK_STEPS, Math.max(1, warmUp.steps()));
                for (int i = 0; i < first; i++) subject.step(-1);
                noise.awaitPrefetch();
                subject.peakMb = BenchMemory.peakMb();
                if (warmUp.untilJitQuiet()) {
                    JitWarmUp.Outcome o =
                            JitWarmUp.ofThisJvm(warmUp.capSeconds()).run(0, i -> subject.step(-1));
                    noise.awaitPrefetch();
                    warmUps.add(s + " " + JitWarmUp.stepsText(o.steps() + first) + " (" + o.describe() + ")");
                } else {
                    for (int i = first; i < warmUp.steps(); i++) subject.step(-1);
                    noise.awaitPrefetch();
                    warmUps.add(s + " " + JitWarmUp.stepsText(Math.max(1, warmUp.steps())));
                }
            }
            if (warmUp.untilJitQuiet() && subjects.size() > 1) {
                // A later strategy's warm-up can make the JIT drop code compiled for an earlier one (a call
                // site that saw one class now sees several), which then runs slower until compiled again: seen
                // as a non-private small-cnn step of 24-65 ms instead of 16-18 in some runs. So the strategies
                // also warm up together, one step each in turn as the timed steps run, until the JIT is quiet.
                progress.accept("warming up the strategies in turn until the JIT is quiet");
                JitWarmUp.Outcome o = JitWarmUp.ofThisJvm(warmUp.capSeconds()).run(0, i -> {
                    for (Subject subject : subjects) subject.step(-1);
                });
                noise.awaitPrefetch();
                warmUps.add("in turn " + JitWarmUp.stepsText(o.steps()) + " each (" + o.describe() + ")");
            }
            progress.accept("timing " + steps + " steps per strategy in blocks of " + Math.min(block, steps));
            long jit0 = JitWarmUp.jvmCompileMillis();
            for (int from = 0; from < steps; from += block) {
                int n = Math.min(block, steps - from);
                for (Subject subject : subjects) subject.block(from, n);
            }
            long jit1 = JitWarmUp.jvmCompileMillis();
            timedJitMillis = jit0 < 0 || jit1 < 0 ? -1 : jit1 - jit0;
            List<BenchResult> out = new ArrayList<>();
            for (Subject subject : subjects) out.add(subject.result());
            return out;
        } finally {
            for (Subject subject : subjects) subject.model.close();
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }

    /** The process's CPU time so far, all threads (the engine's, the JVM's, the noise's), in ns; -1 where unknown. */
    static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime()
                : -1;
    }
}
