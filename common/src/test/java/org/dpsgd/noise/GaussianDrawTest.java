package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A draw added in pieces ({@link NoiseSource#openDraw}) adds, coordinate by coordinate, exactly the
 * noise of the one-call paths: against the independent word-by-word reference (chunk c of call t
 * from AES-CTR stream t·2^32 + c, as {@code NoiseThreadsTest}) and against the whole-buffer rounded
 * path {@code addGaussianRounded}, bit for bit, for several piece lengths, thread counts, with and
 * without prefetch, over consecutive calls; and it takes one call index, as the one-call path does.
 */
class GaussianDrawTest {
    private static final byte[] KEY = new byte[32];
    private static final int A = GaussianDraw.ALIGNMENT;

    static {
        new SplittableRandom(2027).nextBytes(KEY);
    }

    /** v[from..to) plus call {@code call}'s secure noise, chunk by chunk, one word at a time, in double. */
    private static double[] reference(double[] v, int from, int to, double std, long call) {
        return ReferenceNormals.addSecureNoise(KEY, v, from, to, std, call);
    }

    private static double[] sums(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian() * 3 + 1e-9 * r.nextDouble();
        return v;
    }

    /** Adds the draw to v's coordinates [from, from + n) through a piece buffer of {@code piece} doubles, as the trainer does. */
    private static float[] piecewise(GaussianDraw draw, double[] v, int from, int piece) {
        return sequential(draw, v, from, piece, new float[v.length]);
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int threads : new int[] {1, 2, 3, 7})
            for (boolean prefetch : new boolean[] {false, true})
                for (int piece : new int[] {A, 3 * A, 1 << 20}) b.add(Arguments.of(threads, prefetch, piece));
        return b.build();
    }

    @ParameterizedTest(name = "threads={0} prefetch={1} piece={2}")
    @MethodSource("cases")
    void piecesAddExactlyTheOneCallNoise(int threads, boolean prefetch, int piece) {
        // Lengths: several chunks and a ragged end; exactly whole chunks; shorter than one chunk.
        int[] lengths = {5 * A + 1234, 4 * A, 777};
        NoisePool pool = NoisePool.of(threads);
        for (int n : lengths) {
            // One shape per source: with prefetch its next draw is prepared after each one, so call
            // t is round t either way (the reference's call index).
            SecureGaussianNoise pieces = SecureGaussianNoise.withKey(KEY, prefetch, pool);
            SecureGaussianNoise whole = SecureGaussianNoise.withKey(KEY, prefetch, pool);
            for (int round = 0; round < 3; round++) { // rounds 1, 2 read prefetched draws
                int from = 3;
                double[] v = sums(n + 10, 31L * n + round);
                double std = 0.7;
                float[] got = piecewise(pieces.openDraw(n, std), v, from, piece);
                float[] viaWhole = new float[v.length];
                whole.addGaussianRounded(v, viaWhole, from, from + n, std);
                double[] ref = reference(v, from, from + n, std, round);
                float[] expected = new float[v.length];
                for (int i = from; i < from + n; i++) expected[i] = (float) ref[i];
                assertArrayEquals(expected, got, "n=" + n + " round " + round + ": pieces vs the reference");
                assertArrayEquals(viaWhole, got, "n=" + n + " round " + round + ": pieces vs addGaussianRounded");
            }
        }
    }

    /** Seeded noise: the same as the whole-vector paths, and one call per draw (its resume state). */
    @ParameterizedTest(name = "piece={0}")
    @MethodSource("pieceLengths")
    void seededPiecesMatchTheWholePathAndCountOneCall(int piece) {
        int n = 6 * A + 99;
        NoiseSource pieces = new FastInsecureGaussianNoise(5, NoisePool.of(3));
        NoiseSource whole = new FastInsecureGaussianNoise(5, NoisePool.of(1));
        for (int round = 0; round < 3; round++) {
            double[] v = sums(n, round);
            float[] got = piecewise(pieces.openDraw(n, 1.1), v, 0, piece);
            float[] expected = new float[n];
            whole.addGaussianRounded(v, expected, 0, n, 1.1);
            assertArrayEquals(expected, got, "round " + round);
            assertEquals(whole.exportState(), pieces.exportState());
        }
        assertEquals(3L, pieces.exportState());
    }

    static Stream<Integer> pieceLengths() {
        return Stream.of(A, 2 * A, 5 * A, 1 << 20);
    }

    /** A source that only has the one-call methods (the interface's default) gives the same values. */
    @Test
    void theDefaultDrawAddsTheOneCallNoise() {
        int n = 3 * A + 5;
        NoiseSource inner = new FastInsecureGaussianNoise(9, NoisePool.of(1));
        NoiseSource plain = new NoiseSource() {
            @Override
            public void addGaussian(float[] v, int from, int to, double std) {
                inner.addGaussian(v, from, to, std);
            }

            @Override
            public void addGaussian(double[] v, int from, int to, double std) {
                inner.addGaussian(v, from, to, std);
            }

            @Override
            public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
                inner.addGaussianRounded(sum, out, from, to, std);
            }

            @Override
            public boolean isSecure() {
                return false;
            }

            @Override
            public Long exportState() {
                return inner.exportState();
            }

            @Override
            public void restoreState(long calls) {
                inner.restoreState(calls);
            }

            @Override
            public String mode() {
                return "test";
            }
        };
        double[] v = sums(n, 4);
        float[] got = piecewise(plain.openDraw(n, 0.3), v, 0, A);
        float[] expected = new float[n];
        new FastInsecureGaussianNoise(9, NoisePool.of(1)).addGaussianRounded(v, expected, 0, n, 0.3);
        assertArrayEquals(expected, got);
    }

    /** Pieces out of order, repeated, or cutting a chunk are refused: no coordinate's noise is used twice or shifted. */
    @Test
    void piecesOutOfOrderOrMisalignedAreRefused() {
        for (NoiseSource s : new NoiseSource[] {
            SecureGaussianNoise.withKey(KEY, false),
            SecureGaussianNoise.withKey(KEY, true),
            new FastInsecureGaussianNoise(1, NoisePool.of(1))
        }) {
            double[] v = new double[4 * A];
            GaussianDraw d = s.openDraw(4 * A, 1.0);
            assertThrows(IllegalStateException.class, () -> d.addTo(v, 0, A, A), "skips the first piece");
            assertThrows(IllegalArgumentException.class, () -> d.addTo(v, 0, 0, A - 1), "cuts a chunk");
            d.addTo(v, 0, 0, A);
            assertThrows(IllegalStateException.class, () -> d.addTo(v, 0, 0, A), "repeats a piece");
            assertThrows(IllegalArgumentException.class, () -> d.addTo(v, 0, A, 4 * A), "past the end");
            d.addTo(v, A, A, 3 * A);
        }
    }
    // ---- Pieces started on the noise threads (startAddRounded, through PieceBuffers, as the trainer) ----

    /** Today's sequential loop: per piece, addTo then a rounding loop on the caller's thread. */
    private static float[] sequential(GaussianDraw draw, double[] v, int from, int piece, float[] out) {
        double[] buffer = new double[piece];
        int n = draw.length();
        for (int off = 0; off < n; off += piece) {
            int len = Math.min(piece, n - off);
            System.arraycopy(v, from + off, buffer, 0, len);
            draw.addTo(buffer, 0, off, len);
            for (int k = 0; k < len; k++) out[from + off + k] = (float) buffer[k];
        }
        return out;
    }

    /**
     * The pipelined loop: each piece copied into one of two buffers (the drain's stand-in) and started;
     * the second draw's pieces start while the first draw's last pieces may still run, as the trainer
     * moves from one trainable range to the next.
     */
    private static float[] started(GaussianDraw[] draws, double[] v, int[] froms, PieceBuffers buffers) {
        float[] out = new float[v.length];
        java.util.Arrays.fill(out, Float.NaN); // every noised coordinate must be written
        int piece = buffers.length();
        for (int d = 0; d < draws.length; d++) {
            int n = draws[d].length();
            for (int off = 0; off < n; off += piece) {
                int len = Math.min(piece, n - off);
                double[] b = buffers.next();
                System.arraycopy(v, froms[d] + off, b, 0, len);
                buffers.track(draws[d].startAddRounded(b, 0, off, len, out, froms[d] + off));
            }
        }
        buffers.awaitAll();
        return out;
    }

    static Stream<Arguments> startedCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int threads : new int[] {1, 2, 3, 7})
            for (int piece : new int[] {A, 3 * A, 1 << 20})
                for (String path : new String[] {"scalar", "vector", "prefetch", "idle", "seeded"})
                    b.add(Arguments.of(threads, piece, path));
        return b.build();
    }

    private static NoiseSource source(String path, int threads) {
        NoisePool pool = NoisePool.of(threads);
        return switch (path) {
            case "scalar" -> SecureGaussianNoise.withKey(KEY, false, pool, null);
            case "vector" -> SecureGaussianNoise.withKey(KEY, false, pool, new VectorFastPath(ZigguratTables.EXACT));
            case "prefetch" -> SecureGaussianNoise.withKey(KEY, true, pool, null);
            // Drawn ahead on idle-priority threads (noise_prefetch=idle), the caller filling what they leave.
            case "idle" -> SecureGaussianNoise.withKey(KEY, true, NoisePool.idle(threads), null);
            case "seeded" -> new FastInsecureGaussianNoise(13, pool);
            default -> throw new IllegalArgumentException(path);
        };
    }

    /**
     * Pieces started on the pool, overlapping each other and the filling of the next, give the
     * sequential loop's bits (a 1-thread scalar twin) whatever the threads, piece length, kernel and
     * lengths (seeded: ragged, whole chunks, under one chunk), over consecutive rounds of two draws;
     * the secure ones also equal the word-by-word reference.
     */
    @ParameterizedTest(name = "threads={0} piece={1} path={2}")
    @MethodSource("startedCases")
    void startedPiecesGiveTheSequentialBits(int threads, int piece, String path) {
        SplittableRandom r = new SplittableRandom(1000L * threads + piece + path.hashCode());
        NoiseSource parallel = source(path, threads);
        NoiseSource reference = path.equals("seeded") ? source("seeded", 1) : source("scalar", 1);
        PieceBuffers buffers = new PieceBuffers(piece);
        // One shape per case (so that prefetch's background draws take calls 2, 3 while round 0 runs,
        // and so on: call t is draw t either way); ragged, or whole chunks, or under one chunk.
        int n1 = 1 + r.nextInt(7 * A), n2 = threads % 2 == 0 ? 2 * A : 1 + r.nextInt(A / 2);
        int from1 = r.nextInt(5), from2 = from1 + n1 + r.nextInt(5);
        double std = 0.1 + r.nextDouble();
        long call = 0;
        for (int round = 0; round < 3; round++) {
            double[] v = sums(from2 + n2 + 3, r.nextLong());
            GaussianDraw[] draws = {parallel.openDraw(n1, std), parallel.openDraw(n2, std)};
            float[] got = started(draws, v, new int[] {from1, from2}, buffers);
            float[] expected = new float[v.length];
            java.util.Arrays.fill(expected, Float.NaN);
            sequential(reference.openDraw(n1, std), v, from1, piece, expected);
            sequential(reference.openDraw(n2, std), v, from2, piece, expected);
            assertArrayEquals(expected, got, "round " + round + " n1=" + n1 + " n2=" + n2);
            if (!path.equals("seeded")) {
                double[] ref = reference(reference(v, from1, from1 + n1, std, call), from2, from2 + n2, std, call + 1);
                for (int i = from1; i < from1 + n1; i++) assertEquals((float) ref[i], got[i], "reference at " + i);
                for (int i = from2; i < from2 + n2; i++) assertEquals((float) ref[i], got[i], "reference at " + i);
            }
            call += 2;
        }
        if (path.equals("seeded")) assertEquals(6L, parallel.exportState(), "one call per draw");
    }

    /** A started piece is checked when started: order, alignment, and the output range. */
    @Test
    void startedPiecesOutOfOrderOrOutOfRangeAreRefused() {
        for (NoiseSource s : new NoiseSource[] {source("scalar", 2), source("prefetch", 2), source("seeded", 3)}) {
            double[] v = new double[4 * A];
            float[] out = new float[4 * A];
            GaussianDraw d = s.openDraw(4 * A, 1.0);
            assertThrows(IllegalStateException.class, () -> d.startAddRounded(v, 0, A, A, out, 0), "skips a piece");
            assertThrows(
                    IllegalArgumentException.class, () -> d.startAddRounded(v, 0, 0, A - 1, out, 0), "cuts a chunk");
            assertThrows(
                    IllegalArgumentException.class, () -> d.startAddRounded(v, 0, 0, A, out, 3 * A + 1), "past out");
            assertThrows(IllegalArgumentException.class, () -> d.startAddRounded(v, 0, 0, A, out, -1), "before out");
            d.startAddRounded(v, 0, 0, A, out, 0).await();
            assertThrows(IllegalStateException.class, () -> d.startAddRounded(v, 0, 0, A, out, 0), "repeats a piece");
            d.startAddRounded(v, A, A, 3 * A, out, A).await();
        }
    }
}
