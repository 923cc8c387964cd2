package org.dpsgd.run;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.dpsgd.UserError;
import org.dpsgd.accounting.LedgerJournal;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ConfigWarnings;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.Datasets;
import org.dpsgd.data.ShardDataset;
import org.dpsgd.data.Split;
import org.dpsgd.distributed.DataParallel;
import org.dpsgd.model.Network;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.Evaluation;
import org.dpsgd.train.PrivateTraining;
import org.dpsgd.train.StepPhase;
import org.dpsgd.train.StepResult;

/**
 * One training run from config to finished run folder: backend, data, σ calibration, trainer,
 * progress, metrics, evaluation, checkpoints and run.json. Also continues a run from its newest
 * checkpoint ({@link #resume}). Stops at the planned steps or at the privacy budget, never after.
 */
public final class TrainingRun {

    /**
     * @param stopAfterSteps test hook: return after this many steps without the final checkpoint or
     *                       evaluation, as if the process had been killed (null = run to the end)
     * @param faults test hook: told of every named point of a step ({@link StepPhase} names,
     *               "after-metrics", "mid-checkpoint"); throwing from it simulates a crash there
     * @param parallel this process's rank in a data-parallel run (rank 0 runs this class, the others
     *                 {@link FollowerRun}); null = a single process
     */
    public record Options(
            String backend,
            String device,
            PrintStream out,
            PrintStream err,
            Progress progress,
            Long stopAfterSteps,
            Consumer<String> faults,
            DataParallel parallel) {
        public Options(
                String backend,
                String device,
                PrintStream out,
                PrintStream err,
                Progress progress,
                Long stopAfterSteps) {
            this(backend, device, out, err, progress, stopAfterSteps, null, null);
        }

        public static Options quiet(PrintStream err) {
            return new Options(null, null, err, err, new Progress(err, false), null, null, null);
        }

        public Options withStopAfter(long steps) {
            return new Options(backend, device, out, err, progress, steps, faults, parallel);
        }

        public Options withFaults(Consumer<String> f) {
            return new Options(backend, device, out, err, progress, stopAfterSteps, f, parallel);
        }

        public Options withParallel(DataParallel p) {
            return new Options(backend, device, out, err, progress, stopAfterSteps, faults, p);
        }

        void at(String point) {
            if (faults != null) faults.accept(point);
        }
    }

    /** The write-ahead privacy ledger in a run folder. */
    public static final String LEDGER = "privacy-ledger.jsonl";

    /** The outcome; {@code parameters} are the final model parameters (for tests and tooling). */
    public record Result(
            Path dir,
            String status,
            long steps,
            long plannedSteps,
            double epsilon,
            double delta,
            double testAccuracy,
            double testLoss,
            double emaTestAccuracy,
            double trainSeconds,
            double wallSeconds,
            double examplesPerSecond,
            boolean epsilonHolds,
            float[] parameters,
            long stepsCharged,
            Map<String, Object> audit) {
        /** This result with the run's audit summary (epsilon_lower, canaries, guesses, ...). */
        public Result withAudit(Map<String, Object> summary) {
            return new Result(
                    dir,
                    status,
                    steps,
                    plannedSteps,
                    epsilon,
                    delta,
                    testAccuracy,
                    testLoss,
                    emaTestAccuracy,
                    trainSeconds,
                    wallSeconds,
                    examplesPerSecond,
                    epsilonHolds,
                    parameters,
                    stepsCharged,
                    summary);
        }
    }

    private final ExperimentConfig config;
    private final RunDirectory dir;
    private final Options opts;
    private final Map<String, Object> info;
    private final Double sigmaFromRun;

    private TrainingRun(
            ExperimentConfig config, RunDirectory dir, Options opts, Map<String, Object> info, Double sigmaFromRun) {
        this.config = config;
        this.dir = dir;
        this.opts = opts;
        this.info = info;
        this.sigmaFromRun = sigmaFromRun;
    }

    /** A fresh run of {@code config} into {@code out} (which must not hold a run yet). */
    public static Result start(ExperimentConfig config, Path out, Options opts) {
        ExperimentConfig cfg = withCommandLineBackend(config, opts);
        boolean madeHere = !Files.exists(out);
        RunDirectory rd = RunDirectory.create(out);
        try (RunLock lock = RunLock.acquire(rd.root())) {
            if (Files.exists(rd.root().resolve(RunDirectory.RUN_JSON))) {
                throw new IllegalArgumentException(out
                        + " already holds a run (run.json); choose another --out or continue it with --resume " + out);
            }
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("name", cfg.name());
            info.put("status", "starting");
            info.put("started_at", Instant.now().toString());
            try {
                return new TrainingRun(cfg, rd, opts, info, null).execute(false);
            } catch (RuntimeException | Error e) {
                // Refused before anything was written (bad data path, audit settings, backend): leave no empty
                // folder. Only while holding its lock, so a folder another process is starting in is never touched.
                if (madeHere) rd.removeIfNothingWritten();
                throw e;
            }
        }
    }

    /** Continues the run in {@code runDir} from its newest checkpoint, with the config and σ it started with. */
    public static Result resume(Path runDir, Options opts) {
        RunDirectory rd = RunDirectory.open(runDir);
        try (RunLock lock = RunLock.acquire(rd.root())) {
            return resumeLocked(rd, runDir, opts);
        }
    }

    private static Result resumeLocked(RunDirectory rd, Path runDir, Options opts) {
        Map<String, Object> info = rd.readRunInfo();
        Object st = info.get("status");
        if ("finished".equals(st) || STOPPED_AT_BUDGET.equals(st)) {
            // The other ranks of a data-parallel resume wait for rank 0's launch: tell them there is nothing to do.
            if (opts.parallel() != null) RankLaunch.exchange(opts.parallel().communicator(), RankLaunch.NOTHING_TO_DO);
            return alreadyFinished(rd, info, opts);
        }
        Object yaml = info.get("config_yaml");
        if (!(yaml instanceof String text))
            throw new UserError(runDir.resolve(RunDirectory.RUN_JSON) + " has no config_yaml; cannot resume it");
        ExperimentConfig cfg = withCommandLineBackend(
                ConfigLoader.parse(text, runDir.resolve(RunDirectory.RUN_JSON) + " (config_yaml)"), opts);
        Double sigma = info.get("noise_multiplier") instanceof Number n ? n.doubleValue() : null;
        return new TrainingRun(cfg, rd, opts, info, sigma).execute(true);
    }

    private static final String STOPPED_AT_BUDGET = "stopped at the privacy budget";

    /** Resuming a finished run changes nothing: it reports what run.json says. */
    private static Result alreadyFinished(RunDirectory rd, Map<String, Object> info, Options opts) {
        Map<?, ?> fin = info.get("final") instanceof Map<?, ?> m ? m : Map.of();
        long steps = num(fin.get("step")).longValue();
        opts.progress()
                .line(rd.root() + " already " + info.get("status") + " at step " + steps + " (ε = " + fin.get("epsilon")
                        + "); nothing to resume");
        return new Result(
                rd.root(),
                String.valueOf(info.get("status")),
                steps,
                num(info.get("planned_steps")).longValue(),
                num(fin.get("epsilon")).doubleValue(),
                num(fin.get("delta")).doubleValue(),
                num(fin.get("test_accuracy")).doubleValue(),
                num(fin.get("test_loss")).doubleValue(),
                num(fin.get("ema_test_accuracy")).doubleValue(),
                num(fin.get("seconds")).doubleValue(),
                0,
                num(fin.containsKey("examples_per_s") ? fin.get("examples_per_s") : fin.get("expected_examples_per_s"))
                        .doubleValue(),
                Boolean.TRUE.equals(info.get("epsilon_holds")),
                null,
                num(fin.get("steps_charged")).longValue(),
                null);
    }

    private static Number num(Object o) {
        return o instanceof Number n ? n : Double.NaN;
    }

    private static ExperimentConfig withCommandLineBackend(ExperimentConfig cfg, Options opts) {
        ExperimentConfig c = cfg;
        if (opts.backend() != null) c = c.withBackend(c.backend().withName(opts.backend()));
        if (opts.device() != null) c = c.withBackend(c.backend().withDevice(opts.device()));
        return c;
    }

    private Result execute(boolean resuming) {
        long wallStart = System.nanoTime();
        Progress progress = opts.progress();
        // Data first: a missing dataset fails in a second, before a backend engine loads.
        DataParallel parallel = opts.parallel();
        if (parallel != null) parallel.validate(config);
        // A rank opens only its shard (IDX/CIFAR read just its byte range); N is still the whole set's.
        ShardDataset shard = parallel == null ? null : parallel.openShard(config.data(), config.seed(), progress::line);
        Dataset train =
                parallel == null ? Datasets.open(config.data(), Split.TRAIN, config.seed(), progress::line) : shard;
        Dataset test = Datasets.hasTest(config.data())
                ? Datasets.open(config.data(), Split.TEST, config.seed(), progress::line)
                : null;
        int population = parallel == null ? train.size() : shard.population();
        String trainSource = parallel == null ? train.describe() : shard.source();
        long planned = config.training().totalSteps(population);
        Double sigma = parallel == null
                ? sigmaFromRun
                : ParallelSetup.sigma(config, sigmaFromRun, population, progress::line, info);
        // The audit's canaries (rank 0 only in a data-parallel run) are drawn after the data in every step.
        RunAudit audit = RunAudit.forRun(config, train, population, test, resuming);
        var perProcess = ParallelSetup.customizer(
                parallel, config, train, population, audit == null ? 0 : audit.extraCount(), progress::line);
        if (audit != null) test = audit.evaluationSet(test);
        Path ledgerFile = dir.root().resolve(LEDGER);
        if (resuming && config.privacy().enabled() && !Files.exists(ledgerFile)) {
            throw new UserError(
                    dir.root() + " has no " + LEDGER + " (it was written by a version without the write-ahead ledger), "
                            + "so the ε of steps after its last checkpoint is unknown; start the run again");
        }
        LedgerJournal.Contents charged = LedgerJournal.read(ledgerFile);
        try (LedgerJournal journal = config.privacy().enabled() ? LedgerJournal.open(ledgerFile) : null;
                PrivateTraining session = PrivateTraining.open(config, train, sigma, progress::line, b -> {
                    if (journal != null) b.ledgerSink(journal);
                    b.phaseListener(ph -> opts.at(ph.name()));
                    perProcess.accept(b);
                    if (audit != null) audit.customizer().accept(b);
                })) {
            if (session.calibration() != null)
                info.put("calibrated_epsilon", session.calibration().epsilon());
            if (!session.ignoredSettings().isEmpty()) info.put("backend_settings_ignored", session.ignoredSettings());
            Backend backend = session.backend();
            Network net = session.network();
            BatchLayout layout = session.layout();
            DpSgdTrainer trainer = session.trainer();
            double priorSeconds = 0;
            long priorExamples = 0;
            byte[] resumedFrom = new byte[0];
            if (resuming) {
                var latest = dir.checkpoints().latest();
                if (latest.isPresent()) {
                    Checkpoints.Loaded loaded = Checkpoints.load(latest.get());
                    CheckpointPayload payload = CheckpointPayload.decode(
                            loaded.payload(), latest.get().toString());
                    resumedFrom = loaded.payload();
                    trainer.restore(payload.trainer(), charged.events());
                    priorSeconds = payload.trainSeconds();
                    priorExamples = payload.examples();
                } else {
                    trainer.restoreCharges(charged.events());
                }
                long repeated = trainer.stepsCharged() - trainer.stepsDone();
                dir.metrics().setAsideAfter(trainer.stepsDone());
                progress.line("resuming " + dir.root() + " from "
                        + latest.map(p -> p.getFileName().toString()).orElse("the start (no checkpoint)")
                        + " (step " + trainer.stepsDone() + " of " + planned + ")"
                        + (repeated > 0
                                ? "; the " + repeated + " noisy steps run after it stay charged (ε "
                                        + fmt(trainer.epsilon()) + " so far)"
                                : ""));
            }
            describe(
                    backend,
                    session.versions(),
                    net,
                    layout,
                    train,
                    trainSource,
                    population,
                    test,
                    trainer,
                    planned,
                    resuming);
            if (parallel != null) {
                RankLaunch.exchange(
                        parallel.communicator(),
                        new RankLaunch(ConfigLoader.toYaml(config), trainer.noiseMultiplier(), resumedFrom));
                RankChecks checks = RankChecks.exchange(parallel.communicator(), session.versions());
                checks.warnings().forEach(progress::line);
                info.put("rank_checks", checks.toJson());
                info.put(
                        "distributed",
                        Map.of(
                                "ranks",
                                parallel.size(),
                                "transport",
                                parallel.communicator().describe(),
                                "parameter_check_every",
                                parallel.checkEvery()));
            } else {
                // A one-process continuation of a data-parallel run: the earlier ranks' entries describe that segment
                // only.
                info.remove("distributed");
                info.remove("rank_checks");
            }
            dir.writeRunInfo(info);
            if (audit != null) {
                progress.line(audit.describe(config.privacy().delta()));
                audit.start(session);
            }
            return loop(trainer, test, planned, priorSeconds, priorExamples, wallStart, audit);
        } catch (RuntimeException e) {
            if (!"finished".equals(info.get("status")) && info.containsKey("config_yaml")) {
                info.put("status", "failed");
                info.put("error", String.valueOf(e.getMessage()));
                info.put("ended_at", Instant.now().toString());
                dir.writeRunInfo(info);
            }
            throw e;
        } finally {
            dir.metrics().close();
        }
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    private void describe(
            Backend backend,
            Map<String, String> versions,
            Network net,
            BatchLayout layout,
            Dataset train,
            String trainSource,
            int trainSize,
            Dataset test,
            DpSgdTrainer trainer,
            long planned,
            boolean resuming) {
        info.put("status", "running");
        info.put("seed", config.seed());
        info.put("backend", backend.name());
        info.put("device", backend.device());
        info.put("model", net.name());
        info.put("parameters", net.parameterCount());
        info.put(
                "layout",
                Map.of(
                        "micro_batch_size",
                        layout.microBatchSize(),
                        "accumulation",
                        layout.accumulation(),
                        "replicas",
                        layout.replicas()));
        info.put("private", trainer.isPrivate());
        info.put("noise_mode", config.privacy().noise());
        info.put("sampling", config.privacy().sampling());
        info.put("accountant", config.privacy().accountant());
        if (trainer.isPrivate()) {
            info.put("noise_multiplier", trainer.noiseMultiplier());
            info.put("clip_norm", config.privacy().clipNorm());
            info.put("clipping", trainer.mechanism().clip().toString());
            info.put("clip_sensitivity", trainer.mechanism().clip().sensitivity());
            info.put("delta", config.privacy().delta());
            if (config.privacy().targetEpsilon() != null)
                info.put("target_epsilon", config.privacy().targetEpsilon());
        }
        info.put("epsilon_holds", trainer.epsilonHolds());
        info.put("diagnostics", config.privacy().diagnostics());
        info.put(
                "diagnostics_note",
                config.privacy().rawDiagnostics()
                        ? "raw: training-batch loss, accuracy, batch size, clipped fraction and examples/s are written and are NOT covered by ε"
                        : "none: nothing computed from the training data is written except through the DP mechanism (parameters, test-set metrics)");
        if (trainer.isPrivate()) {
            // The trainer already printed ConfigWarnings' loud line; run.json says it too. RDP, as
            // there: PLD cannot represent the tiny-σ runs this flags.
            double planEps = config.privacy().targetEpsilon() != null
                    ? config.privacy().targetEpsilon()
                    : org.dpsgd.accounting.Accountants.epsilon(
                            trainer.samplingRate(),
                            trainer.noiseMultiplier(),
                            planned,
                            config.privacy().delta(),
                            org.dpsgd.accounting.AccountantKind.RDP);
            if (ConfigWarnings.meaninglessEpsilon(planEps)) info.put("epsilon_meaningless", true);
        }
        info.put("sampling_rate", trainer.samplingRate());
        info.put("planned_steps", planned);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("train", trainSource); // the whole set, also in a data-parallel run
        data.put("train_size", trainSize);
        data.put("input_shape", train.shape().toString());
        data.put("classes", train.numClasses());
        if (test != null) {
            data.put("test", test.describe());
            data.put("test_size", test.size());
        }
        info.put("dataset", data);
        info.put("config_yaml", ConfigLoader.toYaml(config));
        info.put(
                "config",
                Json.MAPPER.convertValue(Json.MAPPER.valueToTree(config), new TypeReference<Map<String, Object>>() {}));
        // The backend's library versions and how the noise was drawn ahead (PrivateTraining.versions).
        info.put("provenance", Provenance.collect(versions));
        if (resuming) {
            @SuppressWarnings("unchecked")
            List<Object> resumes =
                    info.get("resumed_at") instanceof List<?> l ? (List<Object>) l : new java.util.ArrayList<>();
            resumes.add(Map.of("time", Instant.now().toString(), "step", trainer.stepsDone()));
            info.put("resumed_at", resumes);
            info.remove("final");
            info.remove("ended_at");
            info.remove("error");
        }
    }

    private Result loop(
            DpSgdTrainer trainer,
            Dataset test,
            long planned,
            double priorSeconds,
            long priorExamples,
            long wallStart,
            RunAudit audit) {
        TrainingConfig t = new TrainingConfig(
                config.training().logEvery(),
                config.training().evalEvery(),
                config.training().checkpointEvery());
        boolean raw = !trainer.isPrivate() || config.privacy().rawDiagnostics();
        // q·N = B per step: the public expected batch size, used for throughput when the realised one is private.
        double expectedBatch = config.training().batchSize();
        double trainSeconds = priorSeconds;
        long examples = priorExamples;
        Window w = new Window();
        Evaluation lastEval = null;
        long lastEvalStep = -1;
        Progress progress = opts.progress();
        DataParallel parallel = opts.parallel();
        while (parallel == null ? trainer.canStep() : parallel.continueWithLeader(trainer.canStep(), trainer)) {
            StepResult r = trainer.step();
            if (audit != null) audit.afterStep(trainer, r);
            if (parallel != null) {
                // With raw diagnostics on, the whole logical batch's statistics, as one process would log them.
                if (raw) r = parallel.combine(r);
                parallel.afterStep(r.step(), trainer);
            }
            trainSeconds += r.seconds();
            examples += raw ? r.batchSize() : Math.round(expectedBatch);
            w.add(r);
            long s = r.step();
            boolean last = !trainer.canStep();
            if (s % t.logEvery == 0 || last) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("kind", "train");
                m.put("step", s);
                m.put("epsilon", r.epsilon());
                m.put("lr", r.lr());
                m.put("time", trainSeconds);
                m.put("steps_per_s", w.stepsPerSecond());
                if (raw) {
                    m.put("loss", w.stats.meanLoss());
                    m.put("accuracy", w.stats.accuracy());
                    m.put("clipped_fraction", w.stats.clippedFraction());
                    m.put("non_finite", w.stats.nonFinite());
                    m.put("examples_per_s", w.examplesPerSecond());
                    m.put("batch_size", r.batchSize());
                    if (trainer.isPrivate()) m.put("diagnostics", "raw");
                } else {
                    m.put("expected_examples_per_s", w.stepsPerSecond() * expectedBatch);
                }
                dir.metrics().append(m);
                double eta = (planned - s) * (trainSeconds / Math.max(1, s));
                if (raw) {
                    progress.step(
                            s,
                            planned,
                            w.stats.meanLoss(),
                            w.stats.accuracy(),
                            r.epsilon(),
                            w.examplesPerSecond(),
                            eta);
                } else {
                    progress.step(
                            s, planned, Double.NaN, Double.NaN, r.epsilon(), w.stepsPerSecond() * expectedBatch, eta);
                }
                w = new Window();
            }
            opts.at("after-metrics");
            if (t.evalEvery > 0 && s % t.evalEvery == 0 && test != null && !last) {
                lastEval = evaluate(trainer, test, s, r.epsilon());
                lastEvalStep = s;
            }
            if (t.checkpointEvery > 0 && s % t.checkpointEvery == 0 && !last) {
                dir.checkpoints()
                        .save(
                                s,
                                new CheckpointPayload(trainer.snapshot(), trainSeconds, examples).encode(),
                                () -> opts.at("mid-checkpoint"));
            }
            if (opts.stopAfterSteps() != null && s >= opts.stopAfterSteps() && !last) {
                if (parallel != null) parallel.atEnd(trainer);
                progress.finish();
                return result(trainer, "interrupted", planned, lastEval, trainSeconds, wallStart, examples);
            }
        }
        if (parallel != null) parallel.atEnd(trainer);
        progress.finish();
        long s = trainer.stepsDone();
        if (test != null && lastEvalStep != s) lastEval = evaluate(trainer, test, s, trainer.epsilon());
        dir.checkpoints()
                .save(
                        s,
                        new CheckpointPayload(trainer.snapshot(), trainSeconds, examples).encode(),
                        () -> opts.at("mid-checkpoint"));
        String status = s < planned ? STOPPED_AT_BUDGET : "finished";
        if (s < planned)
            progress.line("stopped after " + s + " of " + planned + " steps: one more step would exceed the target ε");
        Result res = result(trainer, status, planned, lastEval, trainSeconds, wallStart, examples);
        if (audit != null) {
            Map<String, Object> summary = audit.finish(dir.root(), res.epsilon(), res.delta(), res.testAccuracy());
            res = res.withAudit(summary);
            info.put("audit", summary);
            double lower = ((Number) summary.get("epsilon_lower")).doubleValue();
            progress.line(String.format(
                    java.util.Locale.ROOT,
                    "audit: ε_lower = %.3f at %.0f%% confidence, %s bound (ε = %.3f); canaries, coins and scores in %s",
                    lower,
                    100 * ((Number) summary.get("confidence")).doubleValue(),
                    summary.get("bound"),
                    res.epsilon(),
                    org.dpsgd.audit.AuditFile.NAME));
            if (lower > res.epsilon())
                progress.line(
                        "AUDIT FAILED: the audited lower bound exceeds the reported ε; this implementation does not deliver its ε");
        }
        Map<String, Object> fin = new LinkedHashMap<>();
        fin.put("step", s);
        fin.put("steps_charged", res.stepsCharged());
        fin.put("epsilon", res.epsilon());
        if (res.audit() != null) fin.put("epsilon_lower", res.audit().get("epsilon_lower"));
        fin.put("delta", res.delta());
        fin.put("test_accuracy", res.testAccuracy());
        fin.put("test_loss", res.testLoss());
        if (lastEval != null && lastEval.ema() != null) fin.put("ema_test_accuracy", res.emaTestAccuracy());
        fin.put(raw ? "examples_per_s" : "expected_examples_per_s", res.examplesPerSecond());
        fin.put("seconds", trainSeconds);
        fin.put("wall_seconds_this_process", res.wallSeconds());
        info.put("final", fin);
        info.put("status", status);
        info.put("ended_at", Instant.now().toString());
        dir.writeRunInfo(info);
        return res;
    }

    private Evaluation evaluate(DpSgdTrainer trainer, Dataset test, long step, double epsilon) {
        Evaluation e = trainer.evaluate(test);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "eval");
        m.put("step", step);
        m.put("epsilon", epsilon);
        m.put("test_loss", e.model().meanLoss());
        m.put("test_accuracy", e.model().accuracy());
        if (e.ema() != null) {
            m.put("ema_test_loss", e.ema().meanLoss());
            m.put("ema_test_accuracy", e.ema().accuracy());
        }
        dir.metrics().append(m);
        opts.progress()
                .line(String.format(
                        java.util.Locale.ROOT,
                        "eval at step %d: test accuracy %.2f%%%s, loss %.4f",
                        step,
                        100 * e.model().accuracy(),
                        e.ema() == null
                                ? ""
                                : String.format(
                                        java.util.Locale.ROOT,
                                        " (EMA %.2f%%)",
                                        100 * e.ema().accuracy()),
                        e.model().meanLoss()));
        return e;
    }

    private Result result(
            DpSgdTrainer trainer,
            String status,
            long planned,
            Evaluation eval,
            double trainSeconds,
            long wallStart,
            long examples) {
        double eps = trainer.epsilon();
        double delta = trainer.isPrivate() ? config.privacy().delta() : Double.NaN;
        return new Result(
                dir.root(),
                status,
                trainer.stepsDone(),
                planned,
                eps,
                delta,
                eval == null ? Double.NaN : eval.model().accuracy(),
                eval == null ? Double.NaN : eval.model().meanLoss(),
                eval == null || eval.ema() == null ? Double.NaN : eval.ema().accuracy(),
                trainSeconds,
                (System.nanoTime() - wallStart) * 1e-9,
                trainSeconds > 0 ? examples / trainSeconds : Double.NaN,
                trainer.epsilonHolds(),
                trainer.parameters(),
                trainer.stepsCharged(),
                null);
    }

    private record TrainingConfig(int logEvery, int evalEvery, int checkpointEvery) {}

    /** Steps since the last log line. */
    private static final class Window {
        BatchStats stats = BatchStats.EMPTY;
        double seconds;
        long examples;

        void add(StepResult r) {
            stats = stats.plus(r.stats());
            seconds += r.seconds();
            examples += r.batchSize();
            steps++;
        }

        long steps;

        double examplesPerSecond() {
            return seconds > 0 ? examples / seconds : Double.NaN;
        }

        double stepsPerSecond() {
            return seconds > 0 ? steps / seconds : Double.NaN;
        }
    }
}
