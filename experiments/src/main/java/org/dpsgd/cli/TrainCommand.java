package org.dpsgd.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.run.Progress;
import org.dpsgd.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains a model with DP-SGD as a config file describes; writes a run folder (run.json, metrics.jsonl, checkpoints).")
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", description = "Experiment config (YAML or JSON). Not needed with --resume.")
    Path config;

    @Option(names = "--backend", description = "auto (default: the config's), djl or ipu.")
    String backend;

    @Option(names = "--device", description = "cpu, gpu, gpu:N (default: the config's).")
    String device;

    @Option(names = "--out", description = "Run folder (default: runs/<name>-<time>).")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run in DIR from its newest checkpoint.")
    Path resume;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a config key, e.g. --set training.epochs=2 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Override
    public Integer call() {
        TrainingRun.Options opts = new TrainingRun.Options(backend, device, System.out, System.err, Progress.forConsole(System.err), null);
        TrainingRun.Result r;
        if (resume != null) {
            if (config != null || !sets.isEmpty()) {
                throw new IllegalArgumentException("--resume continues a run with the config it started with; drop --config and --set");
            }
            r = TrainingRun.resume(resume, opts);
        } else {
            if (config == null) throw new IllegalArgumentException("give --config FILE (or --resume DIR)");
            ExperimentConfig cfg = ConfigLoader.load(config, ConfigLoader.parseOverrides(sets));
            r = TrainingRun.start(cfg, out != null ? out : defaultOut(cfg), opts);
        }
        System.out.println(summary(r));
        return 0;
    }

    static Path defaultOut(ExperimentConfig cfg) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("runs", cfg.name().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + stamp);
    }

    static String summary(TrainingRun.Result r) {
        String eps = Double.isInfinite(r.epsilon()) ? "∞ (non-private run)"
                : String.format(Locale.ROOT, "%.4f at δ = %s%s", r.epsilon(), r.delta(), r.epsilonHolds() ? "" : " (NOT a valid guarantee for this run: see the warnings)");
        return String.format(Locale.ROOT, "%s: %d/%d steps, test accuracy %s, ε = %s, %.1f examples/s, %.1f s; run folder %s",
                r.status(), r.steps(), r.plannedSteps(),
                Double.isNaN(r.testAccuracy()) ? "n/a" : String.format(Locale.ROOT, "%.2f%%", 100 * r.testAccuracy()),
                eps, r.examplesPerSecond(), r.trainSeconds(), r.dir());
    }
}
