package org.dpsgd.noise;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Which ziggurat fast path the secure noise runs in this JVM, chosen once: the vector kernel
 * (table look-ups as SIMD gathers on the incubating Vector API) when the {@code jdk.incubator.vector}
 * module is loaded ({@code java --add-modules jdk.incubator.vector}, as the {@code dpsgd} launcher
 * and the tests do) and the CPU has 512-bit vectors, else the scalar loop. Both give the same
 * noise bit for bit for the same key; the choice changes speed only. A kernel that does not
 * reproduce the scalar products on a self-check block is not used.
 *
 * <p>The system property {@code dpsgd.noise.vector} overrides the choice: {@code off} forces the
 * scalar loop, {@code on} takes the vector kernel at whatever width the CPU prefers (for
 * measuring it below 512 bits), {@code auto} (default) is the rule above.
 */
public final class SamplerPath {
    private static final Choice CHOSEN = choose(System.getProperty("dpsgd.noise.vector", "auto"));

    private SamplerPath() {}

    record Choice(FastPathProducts kernel, String description) {}

    /** True when the secure noise runs the vector kernel in this JVM. */
    public static boolean vectorised() {
        return CHOSEN.kernel() != null;
    }

    /** The chosen path and why, one line for bench output and run provenance, e.g. "scalar (jdk.incubator.vector not loaded ...)". */
    public static String description() {
        return CHOSEN.description();
    }

    /** The chosen kernel, null for the scalar loop. */
    static FastPathProducts kernel() {
        return CHOSEN.kernel();
    }

    static Choice choose(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("auto") && !s.equals("on") && !s.equals("off"))
            throw new IllegalArgumentException("-Ddpsgd.noise.vector must be auto, on or off, got '" + setting + "'");
        if (s.equals("off")) return new Choice(null, "scalar (vector path off: -Ddpsgd.noise.vector=off)");
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty())
            return new Choice(
                    null,
                    "scalar (jdk.incubator.vector not loaded; java --add-modules jdk.incubator.vector enables the vector path)");
        try {
            int bits = VectorFastPath.preferredBits();
            if (s.equals("auto") && bits < 512)
                return new Choice(
                        null,
                        "scalar (the CPU's vectors are " + bits
                                + "-bit; the vector path is measured faster only with 512-bit gathers and long-to-double"
                                + " conversion; -Ddpsgd.noise.vector=on forces it)");
            FastPathProducts kernel = new VectorFastPath(bits, ZigguratBlock.fastPathTable());
            if (!reproducesScalar(kernel))
                return new Choice(null, "scalar (the vector kernel failed its self-check against the scalar products)");
            return new Choice(kernel, kernel.description());
        } catch (LinkageError | RuntimeException e) {
            return new Choice(null, "scalar (the vector kernel could not start: " + e + ")");
        }
    }

    /** The kernel's products equal the scalar loop's on a seeded block with every low byte, fast and slow. */
    static boolean reproducesScalar(FastPathProducts kernel) {
        double[] x = ZigguratBlock.fastPathTable();
        SplittableRandom r = new SplittableRandom(12);
        int n = ZigguratBlock.BLOCK + 7;
        long[] w = new long[n];
        for (int i = 0; i < n; i++) w[i] = i < 256 ? (r.nextLong() & ~0xffL) | i : r.nextLong();
        double[] out = new double[n];
        kernel.products(w, out, n);
        for (int i = 0; i < n; i++) {
            double expected = x[(int) w[i] & 0xff] * w[i];
            if (Double.doubleToLongBits(expected) != Double.doubleToLongBits(out[i])) return false;
        }
        return true;
    }
}
