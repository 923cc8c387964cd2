package org.dpsgd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoisePrefetch;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Times full training steps of several clipping strategies side by side on one fixed random batch.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            description = "Model name: ${COMPLETION-CANDIDATES}.",
            completionCandidates = ModelNames.class)
    String model;

    @Option(
            names = "--input",
            defaultValue = "3x32x32",
            description = "Per-sample input shape CxHxW (default ${DEFAULT-VALUE}).")
    String input;

    @Option(
            names = "--stem",
            defaultValue = "imagenet",
            description = "ResNet stem: imagenet (7x7/2 + max-pool) or cifar (3x3/1).")
    String stem;

    @Option(names = "--batch", defaultValue = "64", description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--classes", defaultValue = "10", description = "Number of classes (default ${DEFAULT-VALUE}).")
    int classes;

    @Option(
            names = "--strategies",
            defaultValue = "nonprivate,microbatch,auto",
            split = ",",
            description =
                    "Comma-separated strategies (default ${DEFAULT-VALUE}); nonprivate is the baseline of the ratios; "
                            + "append +per_layer (e.g. auto+per_layer) for per-layer clipping, equal split per tensor.")
    List<String> strategies;

    @Option(
            names = "--precision",
            split = ",",
            description = "Comma-separated precisions to run every strategy in (e.g. fp32,bf16; the DJL backend's"
                    + " precision setting: fp32, fp64, bf16, fp16); rows are then named strategy@precision and each"
                    + " precision's ratios are relative to its own nonprivate. Default: the backend's (or --set's).")
    List<String> precisions;

    @Option(names = "--steps", defaultValue = "5", description = "Timed steps per strategy (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(
            names = "--warmup",
            paramLabel = "auto|N",
            defaultValue = "auto",
            description = "Untimed warm-up per strategy: auto (default: each strategy until the JVM's JIT compiler is"
                    + " quiet, at least 2 steps and at most 120 s, then all of them in turn until it is quiet"
                    + " again, at most 120 s; the steady state a long run sees) or a number of steps. The noise-only,"
                    + " data-only and allreduce lines take 2 for auto, the PyTorch peer "
                    + BenchPeer.AUTO_WARMUP + ".")
    String warmupText;

    /** --warmup as parsed (set at the start of call()). */
    BenchRun.WarmUp warmUp = BenchRun.WarmUp.AUTO;

    /** The fixed step count for the lines that do not wait for the JIT (noise-only, data-only, allreduce). */
    private int warmupSteps() {
        return warmUp.stepsOr(2);
    }

    @Option(
            names = "--block",
            defaultValue = "0",
            description = "Consecutive timed steps per strategy before rotating to the next; "
                    + "0 (default) = 1 where noise is drawn when the step needs it, 5 where it is drawn ahead in the background"
                    + " (noise_prefetch: on accelerators; on CPU backends at idle priority, for models above"
                    + " 32,768 parameters).")
    int block;

    @Option(names = "--backend", defaultValue = "djl", description = "Backend name (default ${DEFAULT-VALUE}).")
    String backendName;

    @Option(
            names = "--device",
            defaultValue = "auto",
            description = "Device: auto, cpu, gpu, gpu:N (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--sigma", defaultValue = "1.0", description = "Noise multiplier σ (default ${DEFAULT-VALUE}).")
    double sigma;

    @Option(names = "--clip", defaultValue = "1.0", description = "Clip norm C (default ${DEFAULT-VALUE}).")
    double clip;

    @Option(
            names = "--set",
            description = "Backend/model setting key=value (e.g. precision=fp64, threads=2); repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print exactly one JSON line.")
    boolean json;

    @Option(
            names = "--peer",
            description =
                    "After our strategies, run the same steps in a peer: torch (PyTorch and Opacus; see docs/benchmarks.md).")
    String peer;

    @Option(
            names = "--peer-strategies",
            defaultValue = "torch-nonprivate,opacus",
            split = ",",
            description = "The peer's strategies: torch-nonprivate, opacus, opacus-ghost (default ${DEFAULT-VALUE}).")
    List<String> peerStrategies;

    @Option(
            names = "--allreduce",
            description =
                    "Under mpirun (mpirun -np W ./dpsgd bench --allreduce ...): also time a data-parallel "
                            + "step's communication (allreduce of all parameters + control messages) and print it beside the step time as a ratio.")
    boolean allreduce;

    @Option(
            names = "--peer-python",
            description = "Interpreter for the peer (default /usr/bin/python3 if present, else python3).")
    String peerPython;

    @Option(
            names = "--peer-script",
            description = "The peer script (default bench/peers/torch_peer.py of this checkout).")
    Path peerScript;

    @Option(
            names = "--noise-only",
            description = "Time secure noise alone for the model's parameter count (no backend): "
                    + "coordinates/s per core and cycles per coordinate at each of --noise-threads.")
    boolean noiseOnly;

    @Option(
            names = "--noise-threads",
            defaultValue = "1,all",
            split = ",",
            description = "With --noise-only: thread counts, 'all' = every core (default ${DEFAULT-VALUE}).")
    List<String> noiseThreads;

    @Option(
            names = "--data-only",
            description =
                    "Time the host's data path: batch assembly from a synthetic shard (images/s per core, plain and "
                            + "with crop + flip) and the time the backend's auto step waits for data, without and with prefetch.")
    boolean dataOnly;

    @Option(
            names = "--micro-batch",
            defaultValue = "0",
            description = "With --data-only: slots per device call (default 0 = the whole batch in one call).")
    int microBatch;

    static final class ModelNames extends ArrayList<String> {
        ModelNames() {
            super(ModelZoo.NAMES);
        }
    }

    /** Each strategy's warm-up as it ended, and the JIT's milliseconds during the timed steps (-1: not reported). */
    private List<String> warmUpLines = List.of();

    private NoiseFloor noiseFloor; // null where no private row was timed beside the non-private one

    private String noisePrefetchName = "off";

    private long timedJitMillis = -1;

    private String timedJitLine() {
        return timedJitMillis < 0
                ? "JIT time not reported"
                : "the JIT compiled for " + timedJitMillis + " ms during the timed steps";
    }

    /** Our engine's thread description (with its OMP_WAIT_POLICY), handed to the peer. */
    String ourThreadInfo;

    @Override
    public Integer call() throws Exception {
        if (batch <= 0) throw new IllegalArgumentException("--batch must be > 0, got " + batch);
        if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0, got " + steps);
        warmUp = BenchRun.WarmUp.parse(warmupText);
        if (block < 0) throw new IllegalArgumentException("--block must be >= 0, got " + block);
        if (strategies.isEmpty()) throw new IllegalArgumentException("--strategies is empty");
        List<String> precisionList = precisions == null
                ? List.of()
                : precisions.stream().map(String::trim).distinct().toList();
        if (!precisionList.isEmpty()) {
            if (settings.containsKey("precision") || settings.containsKey("dtype"))
                throw new IllegalArgumentException(
                        "--precision and --set precision/dtype do not combine; give the precisions with --precision only");
            if (peer != null)
                throw new IllegalArgumentException("--peer compares our default-precision steps with PyTorch's; run"
                        + " --precision " + String.join(",", precisionList) + " as a separate bench without --peer");
            for (String p : precisionList)
                if (p.isEmpty() || p.contains("@"))
                    throw new IllegalArgumentException("--precision has an empty or malformed value '" + p + "'");
        }
        org.dpsgd.distributed.Communicator comm = null;
        if (allreduce) {
            String launch = org.dpsgd.distributed.Mpi.launchedBy(System.getenv())
                    .orElseThrow(
                            () -> new IllegalArgumentException(
                                    "--allreduce times MPI collectives between ranks: launch it with mpirun -np W ./dpsgd bench --allreduce ..."));
            comm = org.dpsgd.distributed.Mpi.open("bench --allreduce under an MPI launch (" + launch + ")");
            if (peer != null)
                throw new IllegalArgumentException("--allreduce and --peer do not combine; run them separately");
        }
        Network net = ModelZoo.build(ModelSpec.of(model).withStem(stem), Shape.parse(input), classes);
        if (noiseOnly) {
            BenchNoise.run(
                    CliOutput.out(spec),
                    model,
                    Math.toIntExact(net.parameterCount()),
                    BenchNoise.threadCounts(noiseThreads),
                    warmupSteps(),
                    steps,
                    json);
            return 0;
        }
        if (dataOnly) {
            if (microBatch < 0) throw new IllegalArgumentException("--micro-batch must be >= 0, got " + microBatch);
            try (Backend backend = Backends.select(backendName, CliOutput.err(spec)::println)
                    .open(new BackendOptions(device, settings))) {
                BenchData.run(
                        CliOutput.out(spec),
                        net,
                        model,
                        batch,
                        microBatch == 0 ? batch : microBatch,
                        warmupSteps(),
                        steps,
                        backend,
                        json);
            }
            return 0;
        }
        DeviceBatch b = randomBatch(net, batch);
        TorchPeer torchPeer = null;
        if (peer != null) {
            if (!peer.equals("torch")) throw new IllegalArgumentException("--peer must be torch, got '" + peer + "'");
            torchPeer = TorchPeer.locate(peerPython, peerScript);
            new BenchPeer(this, net).check(torchPeer);
        }
        List<BenchResult> results = new ArrayList<>();
        String header;
        try (Backend backend =
                Backends.select(backendName, CliOutput.err(spec)::println).open(new BackendOptions(device, settings))) {
            // As the trainer does (backend setting noise_prefetch): by default ahead in the background where the device
            // computes off the host, ahead on idle-priority threads on a CPU backend (Linux), else when the step needs
            // it.
            NoisePrefetch prefetchMode = NoisePrefetch.from(settings, backend.computesOnHostCores());
            boolean prefetch = prefetchMode.drawsAhead(net.parameterCount());
            NoiseSource noise = NoiseSources.create(NoiseMode.SECURE, 0, CliOutput.err(spec)::println, prefetchMode);
            // With background noise a block must span several steps for the overlap to show; without it,
            // rotating every step spreads load changes most evenly.
            if (block == 0) block = prefetch ? 5 : 1;
            BenchRun run = new BenchRun(backend, net, b, noise, sigma, clip, settings);
            List<String> names = new ArrayList<>();
            for (String s : strategies.stream().map(String::trim).distinct().toList()) {
                if (precisionList.isEmpty()) names.add(s);
                for (String p : precisionList) names.add(s + BenchRun.AT + p);
            }
            results.addAll(run.run(names, warmUp, steps, block, msg -> {
                if (!json) CliOutput.err(spec).println("bench: " + msg);
            }));
            warmUpLines = List.copyOf(run.warmUps);
            timedJitMillis = run.timedJitMillis;
            // Each precision's baseline is its own nonprivate step.
            List<BenchResult> withRatios = new ArrayList<>();
            for (BenchResult r : results) {
                String suffix = BenchRun.precisionOf(r.strategy())
                        .map(p -> BenchRun.AT + p)
                        .orElse("");
                double base = results.stream()
                        .filter(x -> x.strategy().equals("nonprivate" + suffix))
                        .mapToDouble(BenchResult::medianMs)
                        .findFirst()
                        .orElse(Double.NaN);
                withRatios.add(r.withRatio(base));
            }
            results.clear();
            results.addAll(withRatios);
            // A lower bound only where the step computes on the host's cores and idle OpenMP threads sleep (a spinning
            // wait, or a GPU host thread spinning on its device, is CPU time that noise would displace, not add to);
            // and not in an MPI bench, whose ranks share the host.
            boolean spinning = "active"
                    .equalsIgnoreCase(
                            String.valueOf(System.getenv("OMP_WAIT_POLICY")).trim());
            noiseFloor = backend.computesOnHostCores() && !spinning && comm == null
                    ? noiseFloor(results, net.parameterCount())
                    : null;
            ourThreadInfo = backend.versions().get("threads");
            noisePrefetchName = prefetchMode.name().toLowerCase(java.util.Locale.ROOT);
            header = String.format(
                    "model %s, input %s, batch %d, %,d parameters; backend %s on %s %s; noise prefetch %s",
                    model,
                    input,
                    batch,
                    net.parameterCount(),
                    backend.name(),
                    backend.device(),
                    backend.versions(),
                    noisePrefetchName);
        }
        if (comm != null) {
            // Every rank has just run the same steps at once (as ranks of a run do); now the communication.
            double stepMs = results.stream()
                    .filter(r -> !r.strategy().equals("nonprivate"))
                    .mapToDouble(BenchResult::medianMs)
                    .findFirst()
                    .orElse(Double.NaN);
            double commMs = AllreduceBench.medianMs(comm, net.parameterCount(), warmupSteps(), steps);
            boolean leader = comm.rank() == 0;
            comm.close();
            if (!leader) return 0;
            CliOutput.err(spec).println(AllreduceBench.line(comm, net.parameterCount(), commMs, stepMs));
        }
        // The peer runs once our backend is closed, so our engine's threads do not compete with it.
        BenchPeer.Outcome peerOutcome = torchPeer == null ? null : new BenchPeer(this, net).run(torchPeer, results);
        if (json) printJson(results, peerOutcome);
        else printTable(header, results, peerOutcome);
        return 0;
    }

    /**
     * The floor secure noise sets on this host ({@link NoiseFloor}), where a non-private row and a private one were
     * timed: one draw of the model's noise on one thread, timed now (the strategies are done, so their threads idle).
     */
    private static NoiseFloor noiseFloor(List<BenchResult> results, long parameters) {
        BenchResult np = results.stream()
                .filter(r -> r.strategy().equals("nonprivate"))
                .findFirst()
                .orElse(null);
        boolean anyPrivate = results.stream().anyMatch(r -> !r.strategy().startsWith("nonprivate"));
        if (np == null || !anyPrivate || Double.isNaN(np.cpuMeanMs()) || parameters > Integer.MAX_VALUE) return null;
        // Small vectors are drawn many times over, so that the JIT has compiled the draw and a draw is not timed alone.
        int n = (int) parameters;
        int warmup = (int) Math.min(1_000, Math.max(2, 8_000_000L / n));
        int reps = (int) Math.min(200, Math.max(3, 2_000_000L / n));
        org.dpsgd.noise.NoiseThroughput.Result noise = org.dpsgd.noise.NoiseThroughput.measure(
                n, 1, warmup, reps, org.dpsgd.train.PiecewiseNoisySum.DEFAULT_PIECE);
        // The draw's CPU time, or its fastest wall time if that is less (the CPU counter also counts the JVM's own
        // threads): the floor must not overstate the noise.
        double noiseMs = Double.isNaN(noise.meanCpuMs()) || noise.meanCpuMs() <= 0
                ? noise.minMs()
                : Math.min(noise.minMs(), noise.meanCpuMs());
        return new NoiseFloor(
                noiseMs, np.medianMs(), np.cpuMeanMs(), Runtime.getRuntime().availableProcessors());
    }

    /** A fixed batch: seeded Gaussian pixels and uniform labels, every slot real. */
    static DeviceBatch randomBatch(Network net, int slots) {
        DeviceBatch b = new DeviceBatch(net.input(), slots, 1);
        SplittableRandom r = new SplittableRandom(42);
        float[] x = b.inputs();
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        for (int s = 0; s < slots; s++) {
            b.labels()[s] = r.nextInt(net.numClasses());
            b.mask()[s] = 1f;
            b.exampleIds()[s] = s;
        }
        return b;
    }

    private void printJson(List<BenchResult> results, BenchPeer.Outcome peerOutcome) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model);
        out.put("batch", batch);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (BenchResult r :
                peerOutcome == null ? results : peerOutcome.comparison().rows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("strategy", r.strategy());
            BenchRun.precisionOf(r.strategy()).ifPresent(p -> row.put("precision", p));
            row.put("median_ms", round(r.medianMs()));
            row.put("examples_per_s", round(r.examplesPerS()));
            row.put("ratio", Double.isNaN(r.ratio()) ? null : round(r.ratio()));
            row.put("peak_mb", Double.isNaN(r.peakMb()) ? null : round(r.peakMb()));
            row.put("cpu_ms", Double.isNaN(r.cpuMeanMs()) ? null : round(r.cpuMeanMs()));
            rows.add(row);
        }
        out.put("results", rows);
        out.put("warmup", warmUpLines);
        out.put("noise_prefetch", noisePrefetchName);
        out.put("timed_jit_ms", timedJitMillis < 0 ? null : timedJitMillis);
        if (noiseFloor != null) {
            Map<String, Object> floor = new LinkedHashMap<>();
            floor.put("noise_core_ms", round(noiseFloor.noiseCoreMs()));
            floor.put("idle_core_ms", round(noiseFloor.idleCoreMs()));
            floor.put("cores", noiseFloor.cores());
            floor.put("ratio", round(noiseFloor.ratio()));
            out.put("noise_floor", floor);
        }
        if (peerOutcome != null) {
            PeerComparison c = peerOutcome.comparison();
            Map<String, Object> headline = new LinkedHashMap<>();
            headline.put(
                    "nonprivate_vs_torch", Double.isNaN(c.nonprivateVsTorch()) ? null : round(c.nonprivateVsTorch()));
            headline.put("auto_vs_opacus", Double.isNaN(c.autoVsOpacus()) ? null : round(c.autoVsOpacus()));
            out.put("headline", headline);
            out.put("peer_versions", peerOutcome.report().versions());
        }
        CliOutput.out(spec).println(new ObjectMapper().writeValueAsString(out));
    }

    private void printTable(String header, List<BenchResult> results, BenchPeer.Outcome peerOutcome) {
        CliOutput.out(spec).println(header);
        if (peerOutcome != null)
            CliOutput.out(spec).println("peer: " + peerOutcome.report().versions());
        List<BenchResult> rows =
                peerOutcome == null ? results : peerOutcome.comparison().rows();
        CliOutput.out(spec)
                .printf(
                        "%-22s %10s %10s %12s %7s %10s %10s %8s%n",
                        "strategy", "step ms", "grad ms", "examples/s", "ratio", "noise ms", "peak MB", "CPU ms");
        for (BenchResult r : rows) {
            CliOutput.out(spec)
                    .printf(
                            "%-22s %10.1f %10s %12.1f %7s %10s %10.0f %8s%n",
                            r.strategy(),
                            r.medianMs(),
                            f1(r.clipMedianMs()),
                            r.examplesPerS(),
                            Double.isNaN(r.ratio()) ? "-" : String.format("%.2f", r.ratio()),
                            f1(r.noiseMedianMs()),
                            r.peakMb(),
                            f1(r.cpuMeanMs()));
        }
        CliOutput.out(spec)
                .println("medians over blocks of " + Math.min(block, steps) + " consecutive steps (" + steps
                        + " steps per strategy, strategies rotating) after each strategy's warm-up; step = gradient + noise"
                        + " (private only) + update; peak MB = process resident-set high-water mark (VmHWM) over that"
                        + " strategy's first " + BenchRun.PEAK_STEPS
                        + " warm-up steps; CPU ms = the process's CPU time per"
                        + " step, all threads (mean over the timed blocks)");
        if (noiseFloor != null) CliOutput.out(spec).println(noiseFloor.line());
        CliOutput.out(spec).println("warm-up: " + String.join("; ", warmUpLines) + "; " + timedJitLine());
        if (peerOutcome != null) {
            PeerComparison c = peerOutcome.comparison();
            CliOutput.out(spec)
                    .println(
                            "peer rows ran after ours, in their own process (same model, batch, steps, σ, C, threads); every ratio is"
                                    + " relative to our nonprivate");
            CliOutput.out(spec)
                    .printf(
                            "headline (below 1: ours is faster): ours nonprivate / torch nonprivate = %s; ours auto / opacus = %s%n",
                            Double.isNaN(c.nonprivateVsTorch()) ? "-" : String.format("%.2f", c.nonprivateVsTorch()),
                            Double.isNaN(c.autoVsOpacus()) ? "-" : String.format("%.2f", c.autoVsOpacus()));
        }
    }

    private static String f1(double v) {
        return Double.isNaN(v) ? "-" : String.format("%.1f", v);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
