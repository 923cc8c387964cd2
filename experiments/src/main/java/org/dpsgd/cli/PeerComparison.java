package org.dpsgd.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Our rows and the peer's rows in one table, every ratio relative to OUR non-private step, plus
 * the two headline ratios: our non-private step over PyTorch's, and our private step ("auto", else
 * "bookkeeping") over Opacus's. Below 1 means ours is faster. Peer rows are named "peer:" + theirs.
 */
record PeerComparison(List<BenchResult> rows, double nonprivateVsTorch, double autoVsOpacus) {
    static final String PREFIX = "peer:";

    static PeerComparison merge(List<BenchResult> ours, List<BenchResult> peer) {
        double base = medianOf(ours, "nonprivate");
        List<BenchResult> rows = new ArrayList<>();
        for (BenchResult r : ours) rows.add(r.withRatio(base));
        for (BenchResult r : peer) {
            rows.add(new BenchResult(
                            PREFIX + r.strategy(),
                            r.medianMs(),
                            r.examplesPerS(),
                            Double.NaN,
                            r.peakMb(),
                            r.clipMedianMs(),
                            r.noiseMedianMs(),
                            r.cpuMeanMs())
                    .withRatio(base));
        }
        double auto = medianOf(ours, "auto");
        if (Double.isNaN(auto)) auto = medianOf(ours, "bookkeeping");
        return new PeerComparison(
                List.copyOf(rows), base / medianOf(peer, "torch-nonprivate"), auto / medianOf(peer, "opacus"));
    }

    private static double medianOf(List<BenchResult> rows, String strategy) {
        return rows.stream()
                .filter(r -> r.strategy().equals(strategy))
                .mapToDouble(BenchResult::medianMs)
                .findFirst()
                .orElse(Double.NaN);
    }
}
