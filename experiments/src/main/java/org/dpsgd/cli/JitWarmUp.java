package org.dpsgd.cli;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.IntConsumer;
import java.util.function.LongSupplier;

/**
 * Warms a strategy up until the JVM's JIT compiler has gone quiet, so the timed steps measure the
 * steady state a long training run sees. A fixed count of a few warm-up steps is not enough: the
 * step's Java code (the taps, the noise, DJL's wrappers) is still being compiled hundreds of steps
 * later, and on a machine with few cores the compiler threads take CPU from the step's own threads
 * (measured on the 2-vCPU machine: 6–14 ms of compiler CPU per small-cnn step after 5 warm-up steps;
 * small-cnn's {@code auto} step 35–36 ms there against 26–29 ms after 200–2,000 steps).
 *
 * <p>Steps run in windows of at least {@link #WINDOW_STEPS} steps and {@link #WINDOW_NANOS}; warm-up
 * ends after the first window in which the JIT's accumulated compilation time grew by at most
 * {@link #QUIET_FRACTION} of the window's wall time, or when {@code capNanos} have passed (then the
 * result says the JIT was still busy). Where the JVM does not report compilation time, a fixed
 * {@link #FALLBACK_STEPS} steps run instead.
 */
final class JitWarmUp {
    /** Fewest steps in a window: one slow step cannot make a window quiet by itself. */
    static final int WINDOW_STEPS = 5;

    /** Shortest window: the JIT compiles in bursts, so a quiet window must span a while. */
    static final long WINDOW_NANOS = 2_000_000_000L;

    /** A window is quiet when compilation took at most this fraction of its wall time. */
    static final double QUIET_FRACTION = 0.01;

    /** Steps run where compilation time is not reported (the older fixed default was 2). */
    static final int FALLBACK_STEPS = 20;

    /** How a warm-up ended. */
    record Outcome(int steps, double seconds, boolean quiet, boolean measured) {
        /** A few words for the bench's footer, e.g. "9.8 s, JIT quiet". */
        String describe() {
            String how = !measured ? "JIT time not reported" : quiet ? "JIT quiet" : "JIT still compiling at the cap";
            return String.format("%.1f s, %s", seconds, how);
        }
    }

    private final LongSupplier compileMillis; // accumulated JIT time, or -1 where not reported
    private final LongSupplier nanoTime;
    private final long capNanos;

    JitWarmUp(LongSupplier compileMillis, LongSupplier nanoTime, long capNanos) {
        if (capNanos <= 0) throw new IllegalArgumentException("warm-up cap must be > 0 s");
        this.compileMillis = compileMillis;
        this.nanoTime = nanoTime;
        this.capNanos = capNanos;
    }

    /** The running JVM's JIT clock and wall clock, with a cap of {@code capSeconds}. */
    static JitWarmUp ofThisJvm(double capSeconds) {
        return new JitWarmUp(JitWarmUp::jvmCompileMillis, System::nanoTime, (long) (capSeconds * 1e9));
    }

    /** The JVM's accumulated compilation time in ms, or -1 where it is not reported. */
    static long jvmCompileMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    /**
     * Runs {@code step} (given the warm-up step's index from 0) at least {@code minSteps} times, then
     * until a quiet window or the cap.
     */
    Outcome run(int minSteps, IntConsumer step) {
        long start = nanoTime.getAsLong();
        int done = 0;
        for (; done < minSteps; done++) step.accept(done);
        if (compileMillis.getAsLong() < 0) {
            for (; done < Math.max(minSteps, FALLBACK_STEPS); done++) step.accept(done);
            return new Outcome(done, seconds(start), false, false);
        }
        while (true) {
            long t0 = nanoTime.getAsLong();
            long c0 = compileMillis.getAsLong();
            int n = 0;
            long now = t0;
            while (n < WINDOW_STEPS || now - t0 < WINDOW_NANOS) {
                step.accept(done++);
                n++;
                now = nanoTime.getAsLong();
                if (now - start >= capNanos) return new Outcome(done, seconds(start), false, true);
            }
            double compiledMs = compileMillis.getAsLong() - c0;
            double wallMs = (now - t0) / 1e6;
            if (compiledMs <= QUIET_FRACTION * wallMs) return new Outcome(done, seconds(start), true, true);
        }
    }

    /** "1 step", "2 steps". */
    static String stepsText(int n) {
        return n + (n == 1 ? " step" : " steps");
    }

    private double seconds(long start) {
        return (nanoTime.getAsLong() - start) / 1e9;
    }
}
