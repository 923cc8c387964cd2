package org.dpsgd.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.NoiseCalibration;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BackendProvider;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicies;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.Initializer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;
import org.dpsgd.model.SafeTensors;

/**
 * The one entry point for training from Java: from a config and the data, it selects and opens the
 * backend, builds the model (initial weights from the seed, or a pretrained safetensors file, with
 * frozen layers), calibrates σ when the config gives a target ε, and builds the {@link DpSgdTrainer}.
 *
 * <pre>{@code
 * try (PrivateTraining t = PrivateTraining.open(config, train, System.err::println)) {
 *     while (t.trainer().canStep()) t.trainer().step();
 *     Evaluation e = t.trainer().evaluate(test);
 * }
 * }</pre>
 */
public final class PrivateTraining implements AutoCloseable {
    private final Backend backend;
    private final Network network;
    private final BatchLayout layout;
    private final TrainableModel model;
    private final DpSgdTrainer trainer;
    private final NoiseCalibration.Result calibration;
    private final SafeTensors.LoadReport pretrained;
    private final List<String> ignoredSettings;
    private final SlotInvarianceCheck.Result slotInvariance; // null for a non-private run

    private PrivateTraining(
            Backend backend,
            Network network,
            BatchLayout layout,
            TrainableModel model,
            DpSgdTrainer trainer,
            NoiseCalibration.Result calibration,
            SafeTensors.LoadReport pretrained,
            List<String> ignoredSettings,
            SlotInvarianceCheck.Result slotInvariance) {
        this.ignoredSettings = ignoredSettings;
        this.slotInvariance = slotInvariance;
        this.backend = backend;
        this.network = network;
        this.layout = layout;
        this.model = model;
        this.trainer = trainer;
        this.calibration = calibration;
        this.pretrained = pretrained;
    }

    /**
     * Opens everything a run needs for {@code config} over the private training set {@code train}, with σ from the config
     * or calibrated from its target ε; notices go to {@code log}. The caller closes the result.
     */
    public static PrivateTraining open(ExperimentConfig config, Dataset train, Consumer<String> log) {
        return open(config, train, null, log);
    }

    /**
     * @param sigma the noise multiplier to use instead of the config's or a calibration (a resumed
     *              run passes the σ it started with, so its ε stays that of one uninterrupted run); null = from the config
     */
    public static PrivateTraining open(ExperimentConfig config, Dataset train, Double sigma, Consumer<String> log) {
        return open(config, train, sigma, log, b -> {});
    }

    /**
     * As {@link #open(ExperimentConfig, Dataset, Double, Consumer)}, with {@code customize} applied to
     * the trainer's builder first (a population size it sets is the N that σ is calibrated for): a durable ledger sink, audit canaries, a data-parallel reduction.
     */
    public static PrivateTraining open(
            ExperimentConfig config,
            Dataset train,
            Double sigma,
            Consumer<String> log,
            Consumer<DpSgdTrainer.Builder> customize) {
        BackendProvider provider = Backends.select(config.backend().name(), msg -> log.accept("note: " + msg));
        BackendSettings.Check settingsCheck = BackendSettings.check(
                provider, Backends.providers(), config.backend().settings());
        if (settingsCheck.warning() != null) log.accept("WARNING: " + settingsCheck.warning());
        Backend backend = provider.open(
                new BackendOptions(config.backend().device(), config.backend().settings()));
        TrainableModel model = null;
        try {
            Network net = ModelZoo.build(config.model(), train.shape(), train.numClasses());
            int replicas =
                    positiveInt(config.backend().settings().getOrDefault("replicas", "1"), "backend.settings.replicas");
            BatchLayout layout = backend.layoutFor(
                    net,
                    new BatchLayout(
                            config.training().microBatchSize(),
                            config.training().accumulation(),
                            replicas));
            ModelSpec spec = config.model();
            model = backend.createModel(
                    net,
                    new ModelOptions(
                            config.backend().strategy(),
                            layout,
                            spec.freeze(),
                            config.backend().settings()));
            SafeTensors.LoadReport loaded = initialize(model, net, spec, config.seed(), log);
            SlotInvarianceCheck.Result slots = config.privacy().enabled()
                    ? SlotInvarianceCheck.check(
                            model,
                            net,
                            layout,
                            config.data().augmentation().multiplicity(),
                            config.backend().settings(),
                            log)
                    : null;

            NoiseCalibration.Result calibration = null;
            DpSgdTrainer.Builder b = DpSgdTrainer.builder(config, train, model)
                    .layout(layout)
                    .frozenPrefixes(spec.freeze())
                    .log(log)
                    .prefetchNoise(org.dpsgd.noise.NoisePrefetch.from(
                            config.backend().settings(), backend.computesOnHostCores()))
                    .prefetchBatches(!backend.computesOnHostCores())
                    .maxCalls(nonNegativeInt(
                            config.backend().settings().getOrDefault("max_calls", "0"), "backend.settings.max_calls"));
            // First, so that a data-parallel run's global N (populationSize) is known to the calibration below.
            customize.accept(b);
            int population = Math.toIntExact(b.populationSizeOr(train.size()));
            PrivacyConfig p = config.privacy();
            if (p.enabled()) {
                double s;
                if (sigma != null) {
                    s = sigma;
                } else if (p.noiseMultiplier() != null) {
                    s = p.noiseMultiplier();
                } else {
                    long steps = config.training().totalSteps(population);
                    double q = config.training().samplingRate(population);
                    calibration = NoiseCalibration.calibrate(p.targetEpsilon(), p.delta(), q, steps, p.accountant());
                    s = calibration.noiseMultiplier();
                    log.accept(String.format(
                            java.util.Locale.ROOT,
                            "calibrated σ = %.4f for ε = %s at δ = %s over %d steps (q = %.6f, %s): ε(σ) = %.4f",
                            s,
                            p.targetEpsilon(),
                            p.delta(),
                            steps,
                            q,
                            p.accountant(),
                            calibration.epsilon()));
                }
                b.accountants(() -> Accountants.create(p.accountant()))
                        .noiseMultiplier(s)
                        .clipPolicy(ClipPolicies.from(config, net));
            }
            return new PrivateTraining(
                    backend, net, layout, model, b.build(), calibration, loaded, settingsCheck.ignored(), slots);
        } catch (RuntimeException e) {
            if (model != null) model.close();
            backend.close();
            throw e;
        }
    }

    /** Initial parameters: the seed's (identical on every backend), then the pretrained file, if any. */
    private static SafeTensors.LoadReport initialize(
            TrainableModel model, Network net, ModelSpec spec, long seed, Consumer<String> log) {
        float[] params = Initializer.initialize(net, seed);
        SafeTensors.LoadReport report = null;
        if (spec.pretrained() != null) {
            Path file = Path.of(spec.pretrained());
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("model.pretrained: no file at " + file.toAbsolutePath()
                        + " (a .safetensors file of parameters)");
            }
            String head = headPrefix(net);
            Map<String, SafeTensors.Tensor> tensors = new java.util.LinkedHashMap<>(SafeTensors.read(file));
            // reinit_head: the head always starts fresh (new task), even when the file's head has the right shape.
            if (spec.reinitHead()) tensors.keySet().removeIf(name -> name.startsWith(head));
            report = SafeTensors.load(net, params, tensors, new SafeTensors.LoadOptions(spec.reinitHead(), head, true));
            log.accept("loaded " + report.loaded().size() + " pretrained parameters from " + file
                    + (report.reinitialized().isEmpty() ? "" : "; re-initialised " + report.reinitialized())
                    + (report.ignored().isEmpty()
                            ? ""
                            : "; ignored " + report.ignored().size() + " file tensors (e.g. BatchNorm statistics)"));
        } else if (spec.reinitHead()) {
            throw new IllegalArgumentException(
                    "model.reinit_head needs model.pretrained (there is nothing to re-initialise the head from)");
        }
        model.writeParameters(params);
        return report;
    }

    /** The classifier head: the layer owning the last parameter (fc in the ResNets, fc2 in fmnist-cnn). */
    static String headPrefix(Network net) {
        List<ParamSpec> ps = net.parameters();
        String last = ps.get(ps.size() - 1).name();
        return last.substring(0, last.lastIndexOf('.') + 1);
    }

    private static int nonNegativeInt(String text, String key) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v < 0)
                throw new IllegalArgumentException(
                        key + " must be >= 0 (0 = as many device calls as each batch needs), got " + v);
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, got '" + text + "'", e);
        }
    }

    private static int positiveInt(String text, String key) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v <= 0) throw new IllegalArgumentException(key + " must be > 0, got " + v);
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a whole number, got '" + text + "'", e);
        }
    }

    /** The trainer driving this run's steps. */
    public DpSgdTrainer trainer() {
        return trainer;
    }
    /** The backend the model lives on. */
    public Backend backend() {
        return backend;
    }
    /** The network built from the config's model section for the dataset's shape and classes. */
    public Network network() {
        return network;
    }
    /** The device-call shape the backend chose. */
    public BatchLayout layout() {
        return layout;
    }
    /** The model on the backend. */
    public TrainableModel model() {
        return model;
    }
    /** The calibration when σ was derived from a target ε, else null. */
    public NoiseCalibration.Result calibration() {
        return calibration;
    }
    /** What was loaded from model.pretrained, else null. */
    public SafeTensors.LoadReport pretrained() {
        return pretrained;
    }

    /**
     * The {@code backend.settings} keys this backend ignored because only another backend reads them (see
     * {@link BackendSettings}); empty when every key was used. Runs record them as {@code backend_settings_ignored}.
     */
    public List<String> ignoredSettings() {
        return ignoredSettings;
    }

    /**
     * Versions of the backend's libraries, for provenance, how the noise is drawn ahead ({@code noise_prefetch}) and,
     * for a private run, what the slot check before its first step found ({@code slot_invariance_model}).
     */
    public Map<String, String> versions() {
        Map<String, String> v = new java.util.LinkedHashMap<>(backend.versions());
        if (trainer.noisePrefetch() != null)
            v.put("noise_prefetch", trainer.noisePrefetch().describe());
        if (slotInvariance != null) v.put("slot_invariance_model", slotInvariance.toString());
        return v;
    }

    @Override
    public void close() {
        try {
            trainer.close();
        } finally {
            try {
                model.close();
            } finally {
                backend.close();
            }
        }
    }
}
