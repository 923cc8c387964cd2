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
 * from 0 to 5 (through 3.636, where the ziggurat's tail sampler takes over) the counts above t and
 * below -t, each side apart, must be within 5 standard errors of n·Q(t). With n = 2^27 draws a 5 SE
 * band is at most 6.4e-5 in probability for every threshold from 2 out (1.6e-5 at t = 3; asserted), so
 * a tail mass wrong by 1e-4 fails; {@code anErrorOf1e4InTailMassIsSeen} shows it does. Draws use
 * fixed keys, so each run checks the same numbers (no flaky failures); the keys are arbitrary.
 */
class GaussianTailTest {
    private static final double[] T = {0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 3.6360066255009458, 4, 4.5, 5};
    private static final int N = 1 << 27;
    private static final NormalDistribution EXACT = NormalDistribution.of(0, 1);

    /** Counts of draws above T[k] and below -T[k]. */
    private static final class Tails {
        long n;
        final long[] upper = new long[T.length], lower = new long[T.length];

        void add(double z, int count) {
            n += count;
            if (z > 0) {
                for (int k = 0; k < T.length && z > T[k]; k++) upper[k] += count;
            } else {
                for (int k = 0; k < T.length && z < -T[k]; k++) lower[k] += count;
            }
        }

        Tails negated() {
            Tails s = new Tails();
            s.n = -n;
            for (int k = 0; k < T.length; k++) {
                s.upper[k] = -upper[k];
                s.lower[k] = -lower[k];
            }
            return s;
        }

        Tails plus(Tails o) {
            Tails s = new Tails();
            s.n = n + o.n;
            for (int k = 0; k < T.length; k++) {
                s.upper[k] = upper[k] + o.upper[k];
                s.lower[k] = lower[k] + o.lower[k];
            }
            return s;
        }

        /** The largest |count − n·Q(t)| / SE over every threshold and side, and a table of them. */
        double worstZ(StringBuilder table) {
            double worst = 0;
            for (int k = 0; k < T.length; k++) {
                double p = EXACT.survivalProbability(T[k]);
                double se = Math.sqrt(n * p * (1 - p));
                double zu = (upper[k] - n * p) / se, zl = (lower[k] - n * p) / se;
                worst = Math.max(worst, Math.max(Math.abs(zu), Math.abs(zl)));
                table.append(String.format("%nt=%.4f Q=%.6e upper %+.6e (%+.1f SE) lower %+.6e (%+.1f SE)",
                        T[k], p, upper[k] / (double) n - p, zu, lower[k] / (double) n - p, zl));
            }
            return worst;
        }
    }

    private static void assertNormal(Tails tails, String what) {
        StringBuilder table = new StringBuilder();
        double worst = tails.worstZ(table);
        assertTrue(worst < 5, what + ": a tail is off by " + worst + " standard errors" + table);
    }

    /** Single standard normals of the bulk sampler over AES keystreams: the ziggurat's own tails (beyond 3.636 its tail sampler). */
    @Test
    void singleNormalsHaveExactNormalTails() {
        byte[] key = new byte[32];
        new SplittableRandom(12).nextBytes(key);
        int streams = 64;
        Tails tails = IntStream.range(0, streams).parallel().mapToObj(s -> {
            AesCtrStream aes = new AesCtrStream(key, (long) s << 32);
            ZigguratBlock block = new ZigguratBlock(new ZigguratBlock.Words() {
                @Override public void next(long[] out, int off, int len) { aes.nextLongs(out, off, len); }
                @Override public void restart(long id) { aes.restart(id); }
            });
            Tails t = new Tails();
            for (int i = 0; i < N / streams; i++) t.add(block.sample(), 1);
            return t;
        }).reduce(new Tails(), Tails::plus);
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
            noise = noise.plus(IntStream.range(0, slices).parallel().mapToObj(s -> {
                Tails t = new Tails();
                for (int i = s * slice; i < (s + 1) * slice; i++) t.add(v[i], 1);
                return t;
            }).reduce(new Tails(), Tails::plus));
            for (long i = (base + 9_999) / 10_000 * 10_000; i < base + v.length; i += 10_000) every10k.add(v[(int) (i - base)], 1);
        }
    }

    /** The noise as added to gradients, (z1+z2+z3+z4)/2 of std 1 rounded to float, must be N(0, 1) in every tail. */
    @Test
    void secureNoiseHasExactNormalTails() {
        assertNormal(noise, "secure noise");
        for (double t : T) {
            double p = EXACT.survivalProbability(t);
            if (t >= 2) assertTrue(5 * Math.sqrt(p * (1 - p) / noise.n) < 1e-4, "5 SE at t = " + t + " must resolve 1e-4");
        }
    }

    /**
     * The check is sharp enough: the same draws with 1e-4 of their mass moved (every 10,000th draw
     * replaced by 2.2, just beyond the t = 2 threshold, or by -3.0) fail it.
     */
    @ParameterizedTest
    @ValueSource(doubles = {2.2, -3.0})
    void anErrorOf1e4InTailMassIsSeen(double movedTo) {
        Tails perturbed = noise.plus(every10k.negated());
        for (long i = 0; i < every10k.n; i++) perturbed.add(movedTo, 1);
        StringBuilder table = new StringBuilder();
        double worst = perturbed.worstZ(table);
        assertTrue(worst > 5, "moving 1e-4 of the mass to " + movedTo + " went unseen: worst " + worst + table);
    }
}
