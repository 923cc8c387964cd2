package org.dpsgd.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.RdpAccountant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description =
                "Times ε(δ) for T steps with each accountant, from scratch (one warm-up, then the median of several runs).")
final class PrivacyBenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Option(
            names = "--steps",
            paramLabel = "T",
            defaultValue = "100000",
            description = "Steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Option(
            names = "--sampling-rate",
            paramLabel = "Q",
            defaultValue = "0.01",
            description = "Sampling rate (default: ${DEFAULT-VALUE}).")
    double samplingRate;

    @Option(
            names = "--noise-multiplier",
            paramLabel = "S",
            defaultValue = "1.0",
            description = "Noise multiplier (default: ${DEFAULT-VALUE}).")
    double noiseMultiplier;

    @Option(names = "--delta", paramLabel = "D", defaultValue = "1e-5", description = "δ (default: ${DEFAULT-VALUE}).")
    double delta;

    @Option(
            names = "--repeats",
            paramLabel = "R",
            defaultValue = "5",
            description = "Timed runs per accountant (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--json", description = "One JSON object on one line.")
    boolean json;

    @Override
    public Integer call() {
        if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        if (repeats < 1) throw new IllegalArgumentException("--repeats must be >= 1, got " + repeats);
        PrivacyArgs.noiseMultiplier(noiseMultiplier);
        PrivacyArgs.delta(delta, null, CliOutput.err(spec));
        if (!(samplingRate > 0 && samplingRate <= 1))
            throw new IllegalArgumentException("--sampling-rate must be in (0, 1], got " + samplingRate);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (AccountantKind name : AccountantKind.values()) {
            RdpAccountant.clearCurveCache();
            double eps = Accountants.epsilon(samplingRate, noiseMultiplier, steps, delta, name); // warm-up
            double[] ms = new double[repeats];
            double[] cpuMs = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                RdpAccountant.clearCurveCache(); // time the whole computation, not a cache hit
                long c0 = THREADS.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                eps = Accountants.epsilon(samplingRate, noiseMultiplier, steps, delta, name);
                ms[i] = (System.nanoTime() - t0) / 1e6;
                cpuMs[i] = (THREADS.getCurrentThreadCpuTime() - c0) / 1e6;
            }
            Arrays.sort(ms);
            Arrays.sort(cpuMs);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("accountant", name);
            row.put("epsilon", eps);
            row.put("median_ms", ms[repeats / 2]);
            row.put("min_ms", ms[0]);
            row.put("max_ms", ms[repeats - 1]);
            // CPU time of this thread: less disturbed than wall time when the machine is shared.
            row.put("median_cpu_ms", cpuMs[repeats / 2]);
            rows.add(row);
        }
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("sampling_rate", samplingRate);
            out.put("noise_multiplier", noiseMultiplier);
            out.put("steps", steps);
            out.put("delta", delta);
            out.put("repeats", repeats);
            out.put("cores", Runtime.getRuntime().availableProcessors());
            out.put("results", rows);
            PrivacyReport.printJson(CliOutput.out(spec), out);
        } else {
            CliOutput.out(spec)
                    .printf(
                            "q = %s, σ = %s, T = %d, δ = %s; median of %d runs after one warm-up (%d cores)%n",
                            samplingRate,
                            noiseMultiplier,
                            steps,
                            delta,
                            repeats,
                            Runtime.getRuntime().availableProcessors());
            for (Map<String, Object> r : rows) {
                CliOutput.out(spec)
                        .printf(
                                "  %-4s ε = %-10s median %8.1f ms wall (min %.1f, max %.1f), %8.1f ms CPU%n",
                                r.get("accountant"),
                                PrivacyReport.number((Double) r.get("epsilon")),
                                r.get("median_ms"),
                                r.get("min_ms"),
                                r.get("max_ms"),
                                r.get("median_cpu_ms"));
            }
        }
        return 0;
    }
}
