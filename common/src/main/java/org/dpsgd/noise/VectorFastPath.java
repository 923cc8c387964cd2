package org.dpsgd.noise;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FastPathProducts} on the incubating Vector API: the low bytes of a vector of words are
 * narrowed to ints, the layer table is gathered with them, and the words are converted to double
 * lane by lane (the same round-to-nearest conversion as a Java cast) and multiplied. HotSpot 17's
 * auto-vectoriser emits no gathers, so the scalar loop cannot do this. Loaded only when the
 * {@code jdk.incubator.vector} module is in the boot layer ({@link SamplerPath}); nothing else
 * in the product refers to this class.
 */
final class VectorFastPath implements FastPathProducts {
    private final VectorSpecies<Double> doubles;
    private final VectorSpecies<Long> longs;
    private final VectorSpecies<Integer> ints;
    private final double[] table;
    private final ThreadLocal<int[]> indices;

    /** A kernel of the given width in bits (512 on AVX-512, 256 on AVX2) over a 256-entry table, NaN off the fast path. */
    VectorFastPath(int bits, double[] table) {
        this.doubles = VectorSpecies.of(double.class, VectorShape.forBitSize(bits));
        this.longs = VectorSpecies.of(long.class, VectorShape.forBitSize(bits));
        this.ints = VectorSpecies.of(int.class, VectorShape.forBitSize(bits / 2));
        this.table = table.clone();
        this.indices = ThreadLocal.withInitial(() -> new int[ZigguratBlock.BLOCK]);
    }

    /** The widest double vector this CPU runs natively, in bits. */
    static int preferredBits() {
        return DoubleVector.SPECIES_PREFERRED.vectorBitSize();
    }

    @Override
    public void products(long[] w, double[] out, int len) {
        int[] idx = indices.get();
        if (idx.length < len) indices.set(idx = new int[len]);
        final double[] x = table;
        int q = 0;
        for (int bound = doubles.loopBound(len); q < bound; q += doubles.length()) {
            LongVector lv = LongVector.fromArray(longs, w, q);
            ((IntVector) lv.and(0xffL).convertShape(VectorOperators.L2I, ints, 0)).intoArray(idx, q);
            DoubleVector xv = DoubleVector.fromArray(doubles, x, 0, idx, q);
            DoubleVector wd = (DoubleVector) lv.convertShape(VectorOperators.L2D, doubles, 0);
            xv.mul(wd).intoArray(out, q);
        }
        for (; q < len; q++) out[q] = x[(int) w[q] & 0xff] * w[q];
    }

    @Override
    public String description() {
        return "vector (jdk.incubator.vector, " + doubles.vectorBitSize() + "-bit gathers)";
    }
}
