package org.dpsgd.noise;

import java.lang.reflect.Field;
import org.apache.commons.rng.sampling.distribution.ZigguratSampler;

/**
 * The tables and constants of the edge of Commons RNG's normal ziggurat
 * ({@code ZigguratSampler.NormalizedGaussian}, 1.6): layer lengths X, overhang heights Y, the alias
 * table (IPMF, MAP) that picks an overhang, the inflection layer and the two triangle bounds. They
 * are read from Commons' own class rather than copied, so {@link ZigguratBlock}'s inline edge uses
 * exactly Commons' numbers. If they cannot be read (another Commons version, a module that is not
 * open) or do not have the expected shape, {@link #AVAILABLE} is false and every edge case goes
 * through Commons' sampler, which gives the same values, only slower.
 */
final class CommonsZigguratTables {
    static final boolean AVAILABLE;
    static final double[] X;
    static final double[] Y;
    static final long[] IPMF;
    static final byte[] MAP;
    static final int J_INFLECTION;
    static final long CONVEX_E_MAX;
    static final long CONCAVE_E_MAX;
    /** Why the tables are not available; null when they are. */
    static final String PROBLEM;

    static {
        double[] x = null, y = null;
        long[] ipmf = null;
        byte[] map = null;
        int jInflection = 0;
        long convex = 0, concave = 0;
        String problem;
        try {
            Class<?> c = ZigguratSampler.NormalizedGaussian.class;
            x = (double[]) read(c, "X");
            y = (double[]) read(c, "Y");
            ipmf = (long[]) read(c, "IPMF");
            map = (byte[]) read(c, "MAP");
            jInflection = (Integer) read(c, "J_INFLECTION");
            convex = (Long) read(c, "CONVEX_E_MAX");
            concave = (Long) read(c, "CONCAVE_E_MAX");
            problem = badShape(x, y, ipmf, map, jInflection);
        } catch (ReflectiveOperationException | RuntimeException e) {
            problem = e.toString();
        }
        AVAILABLE = problem == null;
        PROBLEM = problem;
        X = AVAILABLE ? x : null;
        Y = AVAILABLE ? y : null;
        IPMF = AVAILABLE ? ipmf : null;
        MAP = AVAILABLE ? map : null;
        J_INFLECTION = jInflection;
        CONVEX_E_MAX = convex;
        CONCAVE_E_MAX = concave;
    }

    private CommonsZigguratTables() {}

    /** Null if every layer the alias step can pick (and its lower neighbour) indexes X and Y. */
    private static String badShape(double[] x, double[] y, long[] ipmf, byte[] map, int jInflection) {
        if (ipmf.length != 256 || map.length != 256 || x.length != y.length) return "unexpected table sizes";
        if (jInflection <= 0 || jInflection >= x.length) return "unexpected inflection layer " + jInflection;
        for (int k = 0; k < 256; k++) {
            int alias = map[k] & 0xff;
            if (alias >= x.length || (ipmf[k] != Long.MIN_VALUE && k >= x.length))
                return "alias entry " + k + " outside the layer table";
        }
        return null;
    }

    private static Object read(Class<?> c, String name) throws ReflectiveOperationException {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        Object value = f.get(null);
        // Copies: nothing here can change Commons' own tables.
        if (value instanceof double[] d) return d.clone();
        if (value instanceof long[] l) return l.clone();
        if (value instanceof byte[] b) return b.clone();
        return value;
    }
}
