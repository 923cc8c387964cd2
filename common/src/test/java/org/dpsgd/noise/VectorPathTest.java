package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The secure noise's vector fast path ({@link VectorFastPath}) against the scalar loop: the same
 * values bit for bit for the same words or key, at the CPU's vector width, over lengths that
 * are not multiples of the width, with words off the fast path (edge and tail) and draws across
 * block and chunk boundaries; and the once-per-JVM choice of path. The build runs the tests with
 * {@code --add-modules jdk.incubator.vector}; GaussianTailTest's distribution check also runs on
 * the vector path ({@code secureNoiseOnTheVectorPathHasExactNormalTails}).
 */
class VectorPathTest {
    /** A deterministic word stream; a share of its words leave the fast path (a residual slot). */
    private static final class Synthetic implements ZigguratBlock.Words {
        private final double slowShare;
        private SplittableRandom r;

        Synthetic(long seed, double slowShare) {
            this.slowShare = slowShare;
            restart(seed);
        }

        @Override
        public void next(long[] out, int off, int len) {
            for (int i = 0; i < len; i++) {
                long w = r.nextLong();
                if (r.nextDouble() < slowShare) w = ZigguratBlockTest.residual(w, r);
                out[off + i] = w;
            }
        }

        @Override
        public void restart(long streamId) {
            r = new SplittableRandom(streamId);
        }
    }

    private static FastPathProducts vectorKernel() {
        return new VectorFastPath(ZigguratTables.EXACT);
    }

    @Test
    void theBuildRunsTheTestsWithTheVectorModule() {
        assertTrue(
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "surefire's argLine must carry --add-modules jdk.incubator.vector");
    }

    /** Sums of four, added to floats and kept in double, in random sub-ranges of random lengths. */
    @ParameterizedTest
    @ValueSource(doubles = {0.0, 0.01, 0.3})
    void vectorSumsEqualScalarSumsBitForBit(double slowShare) {
        FastPathProducts kernel = vectorKernel();
        SplittableRandom lengths = new SplittableRandom(31L + (long) (slowShare * 100));
        for (long seed = 1; seed <= 4; seed++) {
            ZigguratBlock scalar = new ZigguratBlock(new Synthetic(seed, slowShare), null);
            ZigguratBlock vector = new ZigguratBlock(new Synthetic(seed, slowShare), kernel);
            float[] a = new float[3 * ZigguratBlock.BLOCK + 13];
            float[] b = new float[a.length];
            double[] da = new double[a.length];
            double[] db = new double[a.length];
            double[] ea = new double[a.length];
            double[] eb = new double[a.length];
            for (int i = 0; i < a.length; i++) a[i] = b[i] = (float) lengths.nextGaussian();
            for (int i = 0; i < a.length; i++) ea[i] = eb[i] = lengths.nextGaussian();
            for (int round = 0; round < 12; round++) {
                int from = lengths.nextInt(a.length);
                int to = from + lengths.nextInt(a.length - from + 1);
                double scale = 0.5 * (1 + round);
                if (round % 3 == 2) {
                    scalar.sumsOfFour(da, from, to, scale);
                    vector.sumsOfFour(db, from, to, scale);
                } else if (round % 3 == 1) {
                    scalar.addSumsOfFour(ea, from, to, scale);
                    vector.addSumsOfFour(eb, from, to, scale);
                } else {
                    scalar.addSumsOfFour(a, from, to, scale);
                    vector.addSumsOfFour(b, from, to, scale);
                }
                // Single normals between the sums move the cursor off a multiple of four.
                if (round % 4 == 1)
                    assertEquals(
                            Double.doubleToRawLongBits(scalar.sample()), Double.doubleToRawLongBits(vector.sample()));
            }
            for (int i = 0; i < a.length; i++) {
                assertEquals(
                        Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), "float " + i + ", seed " + seed);
                assertEquals(Double.doubleToRawLongBits(da[i]), Double.doubleToRawLongBits(db[i]), "double " + i);
                assertEquals(Double.doubleToRawLongBits(ea[i]), Double.doubleToRawLongBits(eb[i]), "added double " + i);
            }
            // Restarted on a new stream, both read it from its start.
            scalar.restart(99 + seed);
            vector.restart(99 + seed);
            float[] c = new float[1001], d = new float[1001];
            scalar.addSumsOfFour(c, 0, c.length, 1.0);
            vector.addSumsOfFour(d, 0, d.length, 1.0);
            for (int i = 0; i < c.length; i++)
                assertEquals(Float.floatToRawIntBits(c[i]), Float.floatToRawIntBits(d[i]));
        }
    }

    /** NoiseThreadsTest-style: whole draws under several keys, lengths, pools and prefetch, vector = scalar. */
    @ParameterizedTest
    @MethodSource("keysAndLengths")
    void secureNoiseIsTheSameOnBothPaths(long keySeed, int length, int threads, boolean prefetch) {
        byte[] key = new byte[32];
        new SplittableRandom(keySeed).nextBytes(key);
        FastPathProducts kernel = vectorKernel();
        NoisePool pool = NoisePool.of(threads);
        SecureGaussianNoise scalar = SecureGaussianNoise.withKey(key, prefetch, pool, null);
        SecureGaussianNoise vector = SecureGaussianNoise.withKey(key, prefetch, pool, kernel);
        for (int call = 0; call < 3; call++) {
            float[] a = new float[length + 5], b = new float[length + 5];
            scalar.addGaussian(a, 2, 2 + length, 1.7);
            vector.addGaussian(b, 2, 2 + length, 1.7);
            for (int i = 0; i < a.length; i++)
                assertEquals(
                        Float.floatToRawIntBits(a[i]),
                        Float.floatToRawIntBits(b[i]),
                        "call " + call + ", coordinate " + i);
            double[] sum = new double[length + 5];
            for (int i = 0; i < sum.length; i++) sum[i] = Math.sin(i) * (1 + 0x1p-35);
            float[] e = new float[length + 5], f = new float[length + 5];
            scalar.addGaussianRounded(sum, e, 2, 2 + length, 1.7);
            vector.addGaussianRounded(sum, f, 2, 2 + length, 1.7);
            for (int i = 0; i < e.length; i++)
                assertEquals(
                        Float.floatToRawIntBits(e[i]),
                        Float.floatToRawIntBits(f[i]),
                        "rounded call " + call + ", coordinate " + i);
            double[] c = new double[length + 5], d = new double[length + 5];
            scalar.addGaussian(c, 2, 2 + length, 1.7);
            vector.addGaussian(d, 2, 2 + length, 1.7);
            for (int i = 0; i < c.length; i++)
                assertEquals(
                        Double.doubleToRawLongBits(c[i]),
                        Double.doubleToRawLongBits(d[i]),
                        "double call " + call + ", coordinate " + i);
        }
        scalar.awaitPrefetch();
        vector.awaitPrefetch();
    }

    static Stream<Arguments> keysAndLengths() {
        int chunk = ChunkedGaussian.CHUNK;
        return Stream.of(
                Arguments.of(1L, 1, 1, false),
                Arguments.of(2L, 7, 1, false),
                Arguments.of(3L, 2 * ZigguratBlock.BLOCK / 4 + 3, 2, false),
                Arguments.of(4L, 3 * chunk + 5, 3, false),
                Arguments.of(5L, chunk - 1, 1, true),
                Arguments.of(6L, 2 * chunk + 11, 3, true));
    }

    /** The kernel's products, lengths that are not multiples of the vector width included (its scalar tail). */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 8, 9, 15, 17, 1000, 2048, 2051})
    void productsEqualTheScalarFormula(int len) {
        ZigguratTables t = ZigguratTables.EXACT;
        SplittableRandom r = new SplittableRandom(len);
        long[] w = new long[len];
        for (int i = 0; i < len; i++) w[i] = r.nextLong();
        double[] out = new double[len];
        vectorKernel().products(w, out, len);
        for (int i = 0; i < len; i++) {
            int k = (int) w[i] & 1023;
            if (k >= t.rectangles) assertTrue(Double.isNaN(out[i]), "word " + i);
            else
                assertEquals(
                        Double.doubleToRawLongBits((w[i] >> 10) * Math.scalb(t.a[k], -53)),
                        Double.doubleToRawLongBits(out[i]),
                        "word " + i);
        }
    }

    @Test
    void theChoiceFollowsTheSetting() {
        SamplerPath.Choice off = SamplerPath.choose("off");
        assertNull(off.kernel());
        assertTrue(off.description().startsWith("scalar (default"), off.description());
        // The module is loaded here (theBuildRunsTheTestsWithTheVectorModule), so "on" gets the kernel.
        SamplerPath.Choice on = SamplerPath.choose(" ON ");
        assertTrue(on.kernel() != null && on.description().startsWith("vector ("), on.description());
        // Without -Ddpsgd.noise.vector the JVM runs the scalar loop.
        assertEquals(System.getProperty("dpsgd.noise.vector") == null, !SamplerPath.vectorised());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> SamplerPath.choose("auto"));
        assertTrue(bad.getMessage().contains("on or off"), bad.getMessage());
    }

    /** The self-check rejects a kernel that differs from the scalar products in one slot, or in NaN-ness. */
    @Test
    void theSelfCheckRejectsAKernelThatDiffers() {
        FastPathProducts good = vectorKernel();
        assertTrue(SamplerPath.reproducesScalar(good));
        for (int badSlot : new int[] {0, 500, 1020, 1022}) {
            FastPathProducts bad = new FastPathProducts() {
                @Override
                public void products(long[] w, double[] out, int len) {
                    good.products(w, out, len);
                    for (int q = 0; q < len; q++)
                        if (((int) w[q] & 1023) == badSlot) out[q] = badSlot < 1021 ? Math.nextUp(out[q]) : 0.0;
                }

                @Override
                public int addSums(double[] p, int q, float[] v, int i, int end, double scale) {
                    return good.addSums(p, q, v, i, end, scale);
                }

                @Override
                public int addSums64(double[] p, int q, double[] v, int i, int end, double scale) {
                    return good.addSums64(p, q, v, i, end, scale);
                }

                @Override
                public int addSumsRounded(
                        double[] p, int q, double[] sum, int d, float[] out, int i, int end, double scale) {
                    return good.addSumsRounded(p, q, sum, d, out, i, end, scale);
                }

                @Override
                public int sums(double[] p, int q, double[] out, int i, int end, double scale) {
                    return good.sums(p, q, out, i, end, scale);
                }

                @Override
                public String description() {
                    return "bad";
                }
            };
            assertFalse(SamplerPath.reproducesScalar(bad), "slot " + badSlot);
        }
    }
}
