package org.dpsgd.noise;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FastPathProducts} on the incubating Vector API: the slot bits of a vector of words are
 * narrowed to ints, the slot's scale is gathered with them (NaN for a residual slot), and the
 * words shifted right (arithmetically, 54 bits) are converted to double lane by lane (exact) and
 * multiplied. HotSpot 17's
 * auto-vectoriser emits no gathers, so the scalar loop cannot do this. Loaded only when asked for
 * and the {@code jdk.incubator.vector} module is in the boot layer ({@link SamplerPath}); nothing
 * else in the product refers to this class.
 */
final class VectorFastPath implements FastPathProducts {
    // Species must be static final: C2 compiles the Vector API into SIMD only when they are
    // constants (as instance fields the same code ran ~8x slower than the scalar loop).
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, DOUBLES.vectorShape());
    private static final VectorSpecies<Integer> INTS =
            VectorSpecies.of(int.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
    private static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, INTS.vectorShape());
    // Lane k of a sum reads product q + 4k + r: gathers with stride 4 turn the interleaved words
    // (z1 z2 z3 z4 of one coordinate, then the next) into one vector per term.
    private static final int[] STRIDE4 = stride4(DOUBLES.length());
    private static final int SLOT = ZigguratTables.SLOTS - 1;
    private final double[] scale;
    private final ThreadLocal<int[]> indices;

    /** A kernel at the CPU's preferred width over {@code tables}' scales (NaN for residual slots). */
    VectorFastPath(ZigguratTables tables) {
        this.scale = tables.scale.clone();
        this.indices = ThreadLocal.withInitial(() -> new int[ZigguratBlock.BLOCK]);
    }

    /** The widest double vector this CPU runs natively, in bits: the kernel's width. */
    static int preferredBits() {
        return DOUBLES.vectorBitSize();
    }

    @Override
    public void products(long[] w, double[] out, int len) {
        int[] idx = indices.get();
        if (idx.length < len) indices.set(idx = new int[len]);
        final double[] s = scale;
        int q = 0;
        for (int bound = DOUBLES.loopBound(len); q < bound; q += DOUBLES.length()) {
            LongVector lv = LongVector.fromArray(LONGS, w, q);
            ((IntVector) lv.and(SLOT).convertShape(VectorOperators.L2I, INTS, 0)).intoArray(idx, q);
            DoubleVector sv = DoubleVector.fromArray(DOUBLES, s, 0, idx, q);
            DoubleVector md =
                    (DoubleVector) lv.lanewise(VectorOperators.ASHR, 10).convertShape(VectorOperators.L2D, DOUBLES, 0);
            md.mul(sv).intoArray(out, q);
        }
        for (; q < len; q++) out[q] = ZigguratBlock.fastValue(w[q]);
    }

    @Override
    public int addSums(double[] p, int q, float[] v, int i, int end, double scale) {
        final int lanes = DOUBLES.length();
        int n = 0;
        for (; end - (i + n) >= lanes; n += lanes) {
            DoubleVector s = sumOfFour(p, q + 4 * n);
            if (s.test(VectorOperators.IS_NAN).anyTrue()) break;
            // (float) (v + scale·s): widen exactly, multiply, add, round once, as the scalar loop.
            DoubleVector vd = (DoubleVector)
                    FloatVector.fromArray(FLOATS, v, i + n).convertShape(VectorOperators.F2D, DOUBLES, 0);
            ((FloatVector) vd.add(s.mul(scale)).convertShape(VectorOperators.D2F, FLOATS, 0)).intoArray(v, i + n);
        }
        return n;
    }

    @Override
    public int addSums64(double[] p, int q, double[] v, int i, int end, double scale) {
        final int lanes = DOUBLES.length();
        int n = 0;
        for (; end - (i + n) >= lanes; n += lanes) {
            DoubleVector s = sumOfFour(p, q + 4 * n);
            if (s.test(VectorOperators.IS_NAN).anyTrue()) break;
            DoubleVector.fromArray(DOUBLES, v, i + n).add(s.mul(scale)).intoArray(v, i + n);
        }
        return n;
    }

    @Override
    public int addSumsRounded(double[] p, int q, double[] sum, int d, float[] out, int i, int end, double scale) {
        final int lanes = DOUBLES.length();
        int n = 0;
        for (; end - (i + n) >= lanes; n += lanes) {
            DoubleVector s = sumOfFour(p, q + 4 * n);
            if (s.test(VectorOperators.IS_NAN).anyTrue()) break;
            ((FloatVector) DoubleVector.fromArray(DOUBLES, sum, i + d + n)
                            .add(s.mul(scale))
                            .convertShape(VectorOperators.D2F, FLOATS, 0))
                    .intoArray(out, i + n);
        }
        return n;
    }

    @Override
    public int sums(double[] p, int q, double[] out, int i, int end, double scale) {
        final int lanes = DOUBLES.length();
        int n = 0;
        for (; end - (i + n) >= lanes; n += lanes) {
            DoubleVector s = sumOfFour(p, q + 4 * n);
            if (s.test(VectorOperators.IS_NAN).anyTrue()) break;
            s.mul(scale).intoArray(out, i + n);
        }
        return n;
    }

    /** Lane k: ((p[q+4k] + p[q+4k+1]) + p[q+4k+2]) + p[q+4k+3], the scalar loop's order. */
    private static DoubleVector sumOfFour(double[] p, int q) {
        DoubleVector z1 = DoubleVector.fromArray(DOUBLES, p, q, STRIDE4, 0);
        DoubleVector z2 = DoubleVector.fromArray(DOUBLES, p, q + 1, STRIDE4, 0);
        DoubleVector z3 = DoubleVector.fromArray(DOUBLES, p, q + 2, STRIDE4, 0);
        DoubleVector z4 = DoubleVector.fromArray(DOUBLES, p, q + 3, STRIDE4, 0);
        return z1.add(z2).add(z3).add(z4);
    }

    private static int[] stride4(int lanes) {
        int[] s = new int[lanes];
        for (int k = 0; k < lanes; k++) s[k] = 4 * k;
        return s;
    }

    @Override
    public String description() {
        return "vector (jdk.incubator.vector, " + DOUBLES.vectorBitSize() + "-bit gathers)";
    }
}
