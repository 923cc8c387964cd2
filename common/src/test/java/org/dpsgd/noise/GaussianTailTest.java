package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.apache.commons.statistics.distribution.NormalDistribution;
import org.dpsgd.sampling.AesCtrStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The distribution of the noise, tails included, against the exact normal tail
 * Q(t) = erfc(t/√2)/2 (Commons Statistics, which evaluates erfc to about 1 ulp): for thresholds t
 * = 0, 0.5, ..., 5 and a_0 = 4.0244 (where the ziggurat's tail sampler takes over) the counts at or above
 * t and at or below -t, each side apart, must be within 5 standard errors of n·Q(t). Non-finite
 * draws fail. With n = 2^27 draws a 5 SE
 * band is at most 6.4e-5 in probability for every threshold from 2 out (1.6e-5 at t = 3; asserted), so
 * a tail mass wrong by 1e-4 fails; {@code anErrorOf1e4InTailMassIsSeen} shows it does. Draws use
 * fixed keys, so each run checks the same numbers (no flaky failures); the keys are arbitrary.
 */
class GaussianTailTest {
    // Thresholds 0, 0.5, ..., 5 (bins of half a unit of |z|) and X0 = a_0 = 4.0244..., where the ziggurat's tail
    // sampler begins (3.636 for Commons' ziggurat until session 5).
    private static final int HALVES = 11;
    private static final double X0 = ZigguratTables.EXACT.a[0];
    private static final int N = 1 << 27;
    private static final NormalDistribution EXACT = NormalDistribution.of(0, 1);

    /**
     * Counts of draws by sign and by |z| in half-unit bins (the last open-ended), and of |z| ≥ X0.
     * Counting is branch-free (a random sign and bin would defeat branch prediction), so the counts
     * are of |z| ≥ t rather than > t, the same probability for a continuous law.
     */
    private static final class Tails {
        long n, nonFinite;
        final long[][] bins = new long[2][HALVES + 1];
        final long[] beyondX0 = new long[2];

        void add(double z, long count) {
            n += count;
            if (!Double.isFinite(z)) {
                nonFinite += count;
                return;
            }
            int side = (int) (Double.doubleToRawLongBits(z) >>> 63);
            double a = Math.abs(z);
            bins[side][(int) Math.min(a * 2, HALVES)] += count;
            beyondX0[side] += a >= X0 ? count : 0;
        }

        /** Draws with |z| ≥ threshold {@code k} (k < HALVES: k/2; k = HALVES: X0) on {@code side} (0 = upper, 1 = lower). */
        long beyond(int k, int side) {
            if (k == HALVES) return beyondX0[side];
            long c = 0;
            for (int b = k; b <= HALVES; b++) c += bins[side][b];
            return c;
        }

        static double threshold(int k) {
            return k == HALVES ? X0 : k / 2.0;
        }

        Tails plus(Tails o, long sign) {
            Tails s = new Tails();
            s.n = n + sign * o.n;
            s.nonFinite = nonFinite + sign * o.nonFinite;
            for (int side = 0; side < 2; side++) {
                for (int b = 0; b <= HALVES; b++) s.bins[side][b] = bins[side][b] + sign * o.bins[side][b];
                s.beyondX0[side] = beyondX0[side] + sign * o.beyondX0[side];
            }
            return s;
        }

        Tails plus(Tails o) {
            return plus(o, 1);
        }

        /** The largest |count − n·Q(t)| / SE over every threshold and side, and a table of them. */
        double worstZ(StringBuilder table) {
            if (nonFinite > 0) return Double.POSITIVE_INFINITY;
            double worst = 0;
            for (int k = 0; k <= HALVES; k++) {
                double t = threshold(k);
                double p = EXACT.survivalProbability(t);
                double se = Math.sqrt(n * p * (1 - p));
                long up = beyond(k, 0), low = beyond(k, 1);
                double zu = (up - n * p) / se, zl = (low - n * p) / se;
                worst = Math.max(worst, Math.max(Math.abs(zu), Math.abs(zl)));
                table.append(String.format(
                        "%nt=%.4f Q=%.6e upper %+.6e (%+.1f SE) lower %+.6e (%+.1f SE)",
                        t, p, up / (double) n - p, zu, low / (double) n - p, zl));
            }
            return worst;
        }
    }

    private static void assertNormal(Tails tails, String what) {
        StringBuilder table = new StringBuilder();
        double worst = tails.worstZ(table);
        assertTrue(worst < 5, what + ": a tail is off by " + worst + " standard errors" + table);
    }

    /** Single standard normals of the bulk sampler over AES keystreams: the ziggurat's own tails (beyond a_0 its tail sampler). */
    @Test
    void singleNormalsHaveExactNormalTails() {
        byte[] key = new byte[32];
        new SplittableRandom(12).nextBytes(key);
        int streams = 64;
        Tails tails = IntStream.range(0, streams)
                .parallel()
                .mapToObj(s -> {
                    AesCtrStream aes = new AesCtrStream(key, (long) s << 32);
                    ZigguratBlock block = new ZigguratBlock(new ZigguratBlock.Words() {
                        @Override
                        public void next(long[] out, int off, int len) {
                            aes.nextLongs(out, off, len);
                        }

                        @Override
                        public void restart(long id) {
                            aes.restart(id);
                        }
                    });
                    Tails t = new Tails();
                    for (int i = 0; i < N / streams; i++) t.add(block.sample(), 1);
                    return t;
                })
                .reduce(new Tails(), Tails::plus);
        assertNormal(tails, "single ziggurat normals");
    }

    /** Tails of the secure noise (computed once for the two tests below) and of its every 10,000th draw. */
    private static Tails noise, every10k;

    @BeforeAll
    static void drawNoise() {
        byte[] key = new byte[32];
        new SplittableRandom(34).nextBytes(key);
        NoiseSource source = SecureGaussianNoise.withKey(key, false, NoisePool.allCores());
        float[] v = new float[1 << 22];
        noise = new Tails();
        every10k = new Tails();
        int slices = 64, slice = v.length / slices;
        for (int call = 0; call < N / v.length; call++) {
            Arrays.fill(v, 0f);
            source.addGaussian(v, 1.0);
            // Counted in parallel slices; every 10,000th draw by its index over all calls.
            long base = (long) call * v.length;
            noise = noise.plus(IntStream.range(0, slices)
                    .parallel()
                    .mapToObj(s -> {
                        Tails t = new Tails();
                        for (int i = s * slice; i < (s + 1) * slice; i++) t.add(v[i], 1);
                        return t;
                    })
                    .reduce(new Tails(), Tails::plus));
            for (long i = (base + 9_999) / 10_000 * 10_000; i < base + v.length; i += 10_000)
                every10k.add(v[(int) (i - base)], 1);
        }
    }

    /** The noise as added to gradients, (z1+z2+z3+z4)/2 of std 1 rounded to float, must be N(0, 1) in every tail. */
    @Test
    void secureNoiseHasExactNormalTails() {
        assertNormal(noise, "secure noise");
        for (int k = 0; k <= HALVES; k++) {
            double t = Tails.threshold(k);
            double p = EXACT.survivalProbability(t);
            if (t >= 2)
                assertTrue(5 * Math.sqrt(p * (1 - p) / noise.n) < 1e-4, "5 SE at t = " + t + " must resolve 1e-4");
        }
    }

    /**
     * The check is sharp enough: the same draws with 1e-4 of their mass moved (every 10,000th draw
     * replaced by 2.2, just beyond the t = 2 threshold, or by -3.0) fail it.
     */
    /**
     * The same check on the vector fast path (VectorFastPath, which VectorPathTest shows equal to the
     * scalar loop bit for bit): its noise, drawn directly, has the exact normal tails too.
     */
    @Test
    void secureNoiseOnTheVectorPathHasExactNormalTails() {
        byte[] key = new byte[32];
        new SplittableRandom(35).nextBytes(key);
        NoiseSource source =
                SecureGaussianNoise.withKey(key, false, NoisePool.allCores(), new VectorFastPath(ZigguratTables.EXACT));
        float[] v = new float[1 << 22];
        int slices = 64, slice = v.length / slices;
        Tails tails = new Tails();
        for (int call = 0; call < N / v.length; call++) {
            Arrays.fill(v, 0f);
            source.addGaussian(v, 1.0);
            tails = tails.plus(IntStream.range(0, slices)
                    .parallel()
                    .mapToObj(s -> {
                        Tails t = new Tails();
                        for (int i = s * slice; i < (s + 1) * slice; i++) t.add(v[i], 1);
                        return t;
                    })
                    .reduce(new Tails(), Tails::plus));
        }
        assertNormal(tails, "secure noise, vector path");
    }

    @ParameterizedTest
    @ValueSource(doubles = {2.2, -3.0})
    void anErrorOf1e4InTailMassIsSeen(double movedTo) {
        Tails perturbed = noise.plus(every10k, -1);
        for (long i = 0; i < every10k.n; i++) perturbed.add(movedTo, 1);
        StringBuilder table = new StringBuilder();
        double worst = perturbed.worstZ(table);
        assertTrue(worst > 5, "moving 1e-4 of the mass to " + movedTo + " went unseen: worst " + worst + table);
    }
}
