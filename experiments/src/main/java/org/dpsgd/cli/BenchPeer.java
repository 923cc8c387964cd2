package org.dpsgd.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.dpsgd.UserError;
import org.dpsgd.model.Network;

/**
 * {@code dpsgd bench --peer torch}: runs the peer with the bench's own model, input, stem, batch,
 * classes, steps, warm-up, block, σ, C and thread count, and merges its rows with ours.
 */
final class BenchPeer {
    /**
     * The peer's warm-up steps when ours waits for the JIT: PyTorch's eager mode compiles nothing while it
     * runs, so a few steps (its allocator's caches, oneDNN's primitives) reach its steady state.
     */
    static final int AUTO_WARMUP = 20;

    /** The peer's report and the merged table. */
    record Outcome(TorchPeer.Report report, PeerComparison comparison) {}

    private final BenchCommand bench;
    private final Network net;

    BenchPeer(BenchCommand bench, Network net) {
        this.bench = bench;
        this.net = net;
    }

    /** Before our own run: the peer's arguments and imports are checked, so a missing torch or Opacus fails fast. */
    void check(TorchPeer peer) throws IOException, InterruptedException {
        peer.check(arguments(), environment());
    }

    Outcome run(TorchPeer peer, List<BenchResult> ours) throws IOException, InterruptedException {
        if (!bench.json)
            CliOutput.err(bench.spec).println("bench: running the peer (PyTorch/Opacus) on the same model and batch");
        TorchPeer.Report report = peer.run(arguments(), environment(), line -> {
            if (!bench.json) CliOutput.err(bench.spec).println("peer: " + line);
        });
        if (report.parameters() >= 0 && report.parameters() != net.parameterCount()) {
            throw new UserError("the peer's " + bench.model + " has " + report.parameters() + " parameters, ours "
                    + net.parameterCount() + ": the models differ, so the comparison would be meaningless");
        }
        return new Outcome(report, PeerComparison.merge(ours, report.results()));
    }

    List<String> arguments() {
        List<String> strategies = bench.peerStrategies.stream()
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .distinct()
                .toList();
        return new ArrayList<>(List.of(
                "--model",
                bench.model,
                "--input",
                bench.input,
                "--stem",
                bench.stem,
                "--batch",
                Integer.toString(bench.batch),
                "--classes",
                Integer.toString(bench.classes),
                "--strategies",
                String.join(",", strategies),
                "--steps",
                Integer.toString(bench.steps),
                "--warmup",
                Integer.toString(bench.warmUp.stepsOr(AUTO_WARMUP)),
                "--block",
                Integer.toString(Math.max(1, bench.block)),
                "--sigma",
                Double.toString(bench.sigma),
                "--clip",
                Double.toString(bench.clip),
                "--threads",
                Integer.toString(threads(bench.settings))));
    }

    /** Our intra-op thread count: the threads setting, else the launcher's -Dai.djl.pytorch.num_threads, else the core count. */
    static int threads(Map<String, String> settings) {
        String s = settings.get("threads");
        if (s != null) return Integer.parseInt(s.trim());
        Integer property = Integer.getInteger("ai.djl.pytorch.num_threads");
        return property != null ? property : Runtime.getRuntime().availableProcessors();
    }

    /**
     * The OpenMP wait policy our engine ran with (its threads description, e.g. "2 threads, 1 inter-op,
     * OMP_WAIT_POLICY=PASSIVE"), else the omp_wait_policy setting, passed on explicitly: our backend
     * sets it with libc setenv, which a child process started from Java does not see (Java hands it
     * the environment it started with). A null value means "remove the variable" (policy unset).
     */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        String policy = null;
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("OMP_WAIT_POLICY=(\\w+)").matcher(String.valueOf(bench.ourThreadInfo));
        if (m.find()) policy = m.group(1);
        else if (bench.settings.get("omp_wait_policy") != null) policy = bench.settings.get("omp_wait_policy");
        if (policy != null) {
            String p = policy.trim().toUpperCase(Locale.ROOT);
            env.put("OMP_WAIT_POLICY", p.equals("UNSET") || p.equals("DEFAULT") ? null : p);
        }
        return env;
    }
}
