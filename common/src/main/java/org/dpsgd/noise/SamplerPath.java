package org.dpsgd.noise;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Which ziggurat fast path the secure noise runs in this JVM, chosen once: the scalar loop by
 * default, or on request ({@code -Ddpsgd.noise.vector=on}, with {@code --add-modules
 * jdk.incubator.vector}) the vector kernel, which does the table look-ups as SIMD gathers on the
 * incubating Vector API. Both give the same noise bit for bit for the same key; the choice changes
 * speed only. The vector kernel is not the default because, measured side by side on this
 * project's 2-core AVX-512 machine, it was no faster than the scalar loop (docs/benchmarks.md);
 * it is kept, tested, for hosts where gathers are cheaper. A kernel that does not reproduce the
 * scalar products on a self-check block is not used. The chosen path and the reason are reported
 * by {@code dpsgd bench --noise-only} and in run provenance.
 */
public final class SamplerPath {
    private static final Choice CHOSEN = choose(System.getProperty("dpsgd.noise.vector", "off"));

    private SamplerPath() {}

    record Choice(FastPathProducts kernel, String description) {}

    /** True when the secure noise runs the vector kernel in this JVM. */
    public static boolean vectorised() {
        return CHOSEN.kernel() != null;
    }

    /** The chosen path and why, one line for bench output and run provenance, e.g. "vector (jdk.incubator.vector, 512-bit gathers)". */
    public static String description() {
        return CHOSEN.description();
    }

    /** The chosen kernel, null for the scalar loop. */
    static FastPathProducts kernel() {
        return CHOSEN.kernel();
    }

    static Choice choose(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("on") && !s.equals("off"))
            throw new IllegalArgumentException("-Ddpsgd.noise.vector must be on or off, got '" + setting + "'");
        if (s.equals("off"))
            return new Choice(
                    null, "scalar (default; the vector path, -Ddpsgd.noise.vector=on, was measured no faster here)");
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return new Choice(
                    null,
                    "scalar (-Ddpsgd.noise.vector=on, but jdk.incubator.vector is not loaded: add java --add-modules jdk.incubator.vector)");
        try {
            FastPathProducts kernel = new VectorFastPath(ZigguratTables.EXACT);
            if (!reproducesScalar(kernel))
                return new Choice(null, "scalar (the vector kernel failed its self-check against the scalar products)");
            return new Choice(kernel, kernel.description());
        } catch (LinkageError | RuntimeException e) {
            return new Choice(null, "scalar (the vector kernel could not start: " + e + ")");
        }
    }

    /** The kernel's products equal the scalar loop's on a seeded block with every layer, fast and slow. */
    static boolean reproducesScalar(FastPathProducts kernel) {
        SplittableRandom r = new SplittableRandom(12);
        int n = ZigguratTables.SLOTS + 7;
        long[] w = new long[n];
        for (int i = 0; i < n; i++)
            w[i] = i < ZigguratTables.SLOTS ? (r.nextLong() & -ZigguratTables.SLOTS) | i : r.nextLong();
        double[] out = new double[n];
        kernel.products(w, out, n);
        for (int i = 0; i < n; i++) {
            double expected = ZigguratBlock.fastValue(w[i]);
            if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(out[i])) return false;
        }
        return true;
    }
}
