package org.dpsgd.cli;

import java.util.Locale;

/**
 * The lowest private / non-private step ratio that secure noise allows on this host, whatever clipping costs: a private
 * step does at least the non-private step's CPU work and draws the noise on the same host cores, so its wall time is at
 * least (non-private CPU + noise CPU) / cores. Printed by {@code dpsgd bench} under the table on CPU backends; it says
 * when a ratio goal is out of reach on a host by arithmetic alone (docs/benchmarks.md).
 *
 * @param noiseCoreMs one draw of the model's noise on one thread: its CPU time in ms (at most its fastest wall time)
 * @param nonPrivateMs the non-private step's median wall time, ms
 * @param nonPrivateCpuMs the non-private step's process CPU time per step, ms (all threads)
 * @param cores the host cores the process may use
 */
record NoiseFloor(double noiseCoreMs, double nonPrivateMs, double nonPrivateCpuMs, int cores) {
    /** The floor of the ratio: at least 1, and at least the CPU work over the cores' time in a non-private step. */
    double ratio() {
        return Math.max(1, (nonPrivateCpuMs + noiseCoreMs) / (cores * nonPrivateMs));
    }

    /** The core-ms the non-private step leaves idle, which drawing ahead at idle priority can use. */
    double idleCoreMs() {
        return Math.max(0, cores * nonPrivateMs - nonPrivateCpuMs);
    }

    String line() {
        return String.format(
                Locale.ROOT,
                "noise floor: secure noise for these parameters costs %.1f core-ms a step (one thread, measured after the"
                        + " timed steps); the non-private step used %.1f of its %d × %.1f core-ms (%.1f idle), so on %d cores no"
                        + " private step can be below %.2f × non-private here, even with clipping free",
                noiseCoreMs,
                nonPrivateCpuMs,
                cores,
                nonPrivateMs,
                idleCoreMs(),
                cores,
                ratio());
    }
}
