package org.dpsgd.cli;

import java.util.Arrays;
import java.util.Locale;
import org.dpsgd.distributed.Communicator;

/**
 * The communication a data-parallel step adds, timed: one allreduce of the P-float clipped sum, the
 * one-byte "take another step" broadcast and the 6-double statistics allreduce (what {@code dpsgd train}
 * does per logical step under MPI). Each timed step starts after a barrier, so it measures the
 * collectives, not the ranks' skew.
 */
final class AllreduceBench {
    private AllreduceBench() {}

    /** Median milliseconds per logical step's communication, over {@code steps} after {@code warmup}. */
    static double medianMs(Communicator comm, long parameters, int warmup, int steps) {
        float[] grad = new float[Math.toIntExact(parameters)];
        Arrays.fill(grad, 1e-3f * (comm.rank() + 1));
        double[] ms = new double[steps];
        for (int i = 0; i < warmup + steps; i++) {
            comm.barrier();
            long t0 = System.nanoTime();
            comm.allreduceSum(grad);
            comm.broadcast(new byte[1], 0);
            comm.allreduceSum(new double[6]);
            long t1 = System.nanoTime();
            if (i >= warmup) ms[i - warmup] = (t1 - t0) * 1e-6;
        }
        // Every rank reports rank 0's timing (the same collective sequence ended on all ranks at about once).
        double[] median = {comm.rank() == 0 ? median(ms) : 0};
        comm.allreduceSum(median);
        return median[0];
    }

    static String line(Communicator comm, long parameters, double commMs, double stepMs) {
        double mb = parameters * 4 / 1e6;
        return String.format(
                Locale.ROOT,
                "allreduce: W = %d over %s: %,d parameters (%.1f MB) per logical step: median %.1f ms communication"
                        + "%s",
                comm.size(),
                comm.describe().split(",")[0],
                parameters,
                mb,
                commMs,
                Double.isNaN(stepMs)
                        ? ""
                        : String.format(
                                Locale.ROOT,
                                " beside %.1f ms step time per rank (ratio %.3f)",
                                stepMs,
                                commMs / stepMs));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
