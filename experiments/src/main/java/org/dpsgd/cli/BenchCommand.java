package org.dpsgd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Times full training steps of several clipping strategies side by side on one fixed random batch.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model name: ${COMPLETION-CANDIDATES}.", completionCandidates = ModelNames.class)
    String model;

    @Option(names = "--input", defaultValue = "3x32x32", description = "Per-sample input shape CxHxW (default ${DEFAULT-VALUE}).")
    String input;

    @Option(names = "--stem", defaultValue = "imagenet", description = "ResNet stem: imagenet (7x7/2 + max-pool) or cifar (3x3/1).")
    String stem;

    @Option(names = "--batch", defaultValue = "64", description = "Examples per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--classes", defaultValue = "10", description = "Number of classes (default ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--strategies", defaultValue = "nonprivate,microbatch,auto", split = ",",
            description = "Comma-separated strategies (default ${DEFAULT-VALUE}); nonprivate is the baseline of the ratios.")
    List<String> strategies;

    @Option(names = "--steps", defaultValue = "5", description = "Timed steps per strategy (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "Untimed warm-up steps per strategy (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--backend", defaultValue = "djl", description = "Backend name (default ${DEFAULT-VALUE}).")
    String backendName;

    @Option(names = "--device", defaultValue = "auto", description = "Device: auto, cpu, gpu, gpu:N (default ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--sigma", defaultValue = "1.0", description = "Noise multiplier σ (default ${DEFAULT-VALUE}).")
    double sigma;

    @Option(names = "--clip", defaultValue = "1.0", description = "Clip norm C (default ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--set", description = "Backend/model setting key=value (e.g. dtype=float64, threads=2); repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print exactly one JSON line.")
    boolean json;

    static final class ModelNames extends ArrayList<String> {
        ModelNames() {
            super(ModelZoo.NAMES);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (batch <= 0) throw new IllegalArgumentException("--batch must be > 0, got " + batch);
        if (steps <= 0) throw new IllegalArgumentException("--steps must be > 0, got " + steps);
        if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        if (strategies.isEmpty()) throw new IllegalArgumentException("--strategies is empty");
        Network net = ModelZoo.build(ModelSpec.of(model).withStem(stem), Shape.parse(input), classes);
        DeviceBatch b = randomBatch(net, batch);
        NoiseSource noise = NoiseSources.create("secure", 0, System.err::println);
        List<BenchResult> results = new ArrayList<>();
        try (Backend backend = Backends.select(backendName, System.err::println).open(new BackendOptions(device, settings))) {
            BenchRun run = new BenchRun(backend, net, b, noise, sigma, clip, settings);
            List<String> names = strategies.stream().map(String::trim).distinct().toList();
            results.addAll(run.run(names, warmup, steps, msg -> {
                if (!json) System.err.println("bench: " + msg);
            }));
            double base = results.stream().filter(r -> r.strategy().equals("nonprivate")).mapToDouble(BenchResult::medianMs).findFirst().orElse(Double.NaN);
            results.replaceAll(r -> r.withRatio(base));
            if (json) printJson(results);
            else printTable(backend, net, results);
        }
        return 0;
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

    private void printJson(List<BenchResult> results) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", model);
        out.put("batch", batch);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (BenchResult r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("strategy", r.strategy());
            row.put("median_ms", round(r.medianMs()));
            row.put("examples_per_s", round(r.examplesPerS()));
            row.put("ratio", Double.isNaN(r.ratio()) ? null : round(r.ratio()));
            row.put("peak_mb", Double.isNaN(r.peakMb()) ? null : round(r.peakMb()));
            rows.add(row);
        }
        out.put("results", rows);
        System.out.println(new ObjectMapper().writeValueAsString(out));
    }

    private void printTable(Backend backend, Network net, List<BenchResult> results) {
        System.out.printf("model %s, input %s, batch %d, %,d parameters; backend %s on %s %s%n", model, input, batch,
                net.parameterCount(), backend.name(), backend.device(), backend.versions());
        System.out.printf("%-12s %10s %10s %12s %7s %10s %10s%n", "strategy", "step ms", "grad ms", "examples/s", "ratio", "noise ms", "peak MB");
        for (BenchResult r : results) {
            System.out.printf("%-12s %10.1f %10.1f %12.1f %7s %10.1f %10.0f%n", r.strategy(), r.medianMs(), r.clipMedianMs(), r.examplesPerS(),
                    Double.isNaN(r.ratio()) ? "-" : String.format("%.2f", r.ratio()), r.noiseMedianMs(), r.peakMb());
        }
        System.out.println("medians over " + steps + " rounds (strategies interleaved) after " + warmup
                + " warm-up steps each; step = gradient + noise (private only) + update; peak MB = process resident-set"
                + " high-water mark (VmHWM) during that strategy's warm-up");
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
