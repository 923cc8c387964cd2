package org.dpsgd.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.run.Progress;
import org.dpsgd.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description =
                "Trains a model with DP-SGD as a config file describes; writes a run folder (run.json, metrics.jsonl, checkpoints).")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", description = "Experiment config (YAML or JSON). Not needed with --resume.")
    Path config;

    @Option(names = "--backend", description = "auto (default: the config's), djl or ipu.")
    String backend;

    @Option(
            names = "--device",
            description =
                    "cpu, gpu, gpu:N, or gpu:local (under mpirun: the rank's local index) (default: the config's).")
    String device;

    @Option(names = "--out", description = "Run folder (default: runs/<name>-<time>).")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR from its newest checkpoint.")
    Path resume;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "Override a config key, e.g. --set training.epochs=2 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--distributed",
            paramLabel = "MODE",
            description = "auto (default: MPI when launched by mpirun/poprun), none, or mpi "
                    + "(data-parallel over MPI: run as mpirun -np W ./dpsgd train ...; rank 0 writes the run folder).")
    String distributed;

    @Option(
            names = "--check-every",
            paramLabel = "K",
            defaultValue = "100",
            description = "In a data-parallel run, compare the parameters of every rank every K steps (default 100).")
    int checkEvery;

    @Override
    public Integer call() {
        PrintStream stderr = CliOutput.stream(CliOutput.err(spec));
        TrainingRun.Options opts = new TrainingRun.Options(
                backend,
                DistributedTraining.device(device, System.getenv()),
                CliOutput.stream(CliOutput.out(spec)),
                stderr,
                Progress.forConsole(stderr),
                null);
        java.util.Optional<String> mpi = DistributedTraining.reason(distributed, System.getenv());
        if (mpi.isPresent()) {
            checkArguments();
            TrainingRun.Result r = DistributedTraining.run(mpi.get(), checkEvery, opts, this::runOnce);
            if (r != null) CliOutput.out(spec).println(summary(r));
            return 0;
        }
        checkArguments();
        CliOutput.out(spec).println(summary(runOnce(opts)));
        return 0;
    }

    private void checkArguments() {
        if (resume != null && (config != null || !sets.isEmpty())) {
            throw new IllegalArgumentException(
                    "--resume continues a run with the config it started with; drop --config and --set");
        }
        if (resume == null && config == null)
            throw new IllegalArgumentException("give --config FILE (or --resume DIR)");
        if (checkEvery < 1) throw new IllegalArgumentException("--check-every must be >= 1 step, got " + checkEvery);
    }

    private TrainingRun.Result runOnce(TrainingRun.Options opts) {
        TrainingRun.Result r;
        if (resume != null) {
            r = TrainingRun.resume(resume, opts);
        } else {
            Map<String, String> overrides = ConfigLoader.parseOverrides(sets);
            ExperimentConfig cfg = ConfigLoader.load(config, overrides);
            // backend.settings against --backend when given, else the config's backend, before the run starts.
            BackendSettings.checkConfig(cfg, backend, ConfigLoader.source(config.toString(), overrides));
            r = TrainingRun.start(cfg, out != null ? out : defaultOut(cfg), opts);
        }
        return r;
    }

    static Path defaultOut(ExperimentConfig cfg) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", cfg.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + stamp);
    }

    static String summary(TrainingRun.Result r) {
        String eps = Double.isInfinite(r.epsilon())
                ? "∞ (non-private run)"
                : String.format(
                        Locale.ROOT,
                        "%.4f at δ = %s%s",
                        r.epsilon(),
                        r.delta(),
                        r.epsilonHolds() ? "" : " (NOT a valid guarantee for this run: see the warnings)");
        return String.format(
                Locale.ROOT,
                "%s: %d/%d steps, test accuracy %s, ε = %s, %.1f examples/s, %.1f s; run folder %s",
                r.status(),
                r.steps(),
                r.plannedSteps(),
                Double.isNaN(r.testAccuracy()) ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * r.testAccuracy()),
                eps,
                r.examplesPerSecond(),
                r.trainSeconds(),
                r.dir());
    }
}
