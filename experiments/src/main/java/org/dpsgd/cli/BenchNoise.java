package org.dpsgd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dpsgd.noise.NoiseThroughput;
import org.dpsgd.noise.SamplerPath;

/**
 * {@code dpsgd bench --noise-only}: secure noise alone, for a model's parameter count, at each
 * requested thread count; no backend is opened. Per-core throughput is coordinates / median wall
 * time / threads; cycles per coordinate use the clock /proc/cpuinfo reports, from wall time and
 * from the process's CPU time.
 */
final class BenchNoise {
    private BenchNoise() {}

    /** "1,all" style lists: positive integers, "all" = every core. */
    static List<Integer> threadCounts(List<String> spec) {
        List<Integer> out = new ArrayList<>();
        for (String s : spec) {
            String t = s.trim();
            int n;
            try {
                n = t.equals("all") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(t);
            } catch (NumberFormatException e) {
                n = 0;
            }
            if (n < 1)
                throw new IllegalArgumentException("--noise-threads takes positive integers or 'all', got '" + s + "'");
            if (!out.contains(n)) out.add(n);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--noise-threads is empty; give e.g. 1,all");
        return out;
    }

    static void run(
            PrintWriter stdout,
            String model,
            int coordinates,
            List<Integer> threads,
            int warmup,
            int reps,
            boolean json)
            throws Exception {
        List<NoiseThroughput.Result> results = new ArrayList<>();
        for (int t : threads)
            results.add(NoiseThroughput.measure(
                    coordinates, t, Math.max(1, warmup), reps, org.dpsgd.train.PiecewiseNoisySum.DEFAULT_PIECE));
        if (json) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", model);
            out.put("coordinates", coordinates);
            out.put("cores", Runtime.getRuntime().availableProcessors());
            out.put("ghz", results.get(0).ghz());
            out.put("sampler", SamplerPath.description());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (NoiseThroughput.Result r : results) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("threads", r.threads());
                row.put("median_ms", r.medianMs());
                row.put("min_ms", r.minMs());
                row.put("max_ms", r.maxMs());
                row.put("coordinates_per_s_per_core", r.perCorePerSecond());
                row.put(
                        "cycles_per_coordinate",
                        Double.isNaN(r.cyclesPerCoordinate()) ? null : r.cyclesPerCoordinate());
                row.put("cpu_ms", r.meanCpuMs());
                row.put(
                        "cpu_cycles_per_coordinate",
                        Double.isNaN(r.cpuCyclesPerCoordinate()) ? null : r.cpuCyclesPerCoordinate());
                rows.add(row);
            }
            out.put("noise_only", rows);
            stdout.println(new ObjectMapper().writeValueAsString(out));
            return;
        }
        stdout.printf(
                "secure noise alone (AES-256-CTR, (z1+z2+z3+z4)/2): %,d coordinates (%s parameters), %d cores, %.2f GHz (/proc/cpuinfo)%n",
                coordinates,
                model,
                Runtime.getRuntime().availableProcessors(),
                results.get(0).ghz());
        stdout.println("ziggurat fast path: " + SamplerPath.description());
        for (NoiseThroughput.Result r : results) {
            stdout.printf(
                    "noise-only %2d thread%s  median %8.1f ms  [%.1f, %.1f]  %6.1f M coordinates/s per core  %5.1f cycles/coordinate"
                            + "  (CPU time: %.1f cycles/coordinate)%n",
                    r.threads(),
                    r.threads() == 1 ? " " : "s",
                    r.medianMs(),
                    r.minMs(),
                    r.maxMs(),
                    r.perCorePerSecond() / 1e6,
                    r.cyclesPerCoordinate(),
                    r.cpuCyclesPerCoordinate());
        }
        stdout.println(
                "medians [min, max] of " + reps + " draws after " + Math.max(1, warmup)
                        + " warm-up draws; per core and cycles from wall time"
                        + " (other load on the machine counts), CPU time = the process's, summed over its threads, mean per draw");
    }
}
