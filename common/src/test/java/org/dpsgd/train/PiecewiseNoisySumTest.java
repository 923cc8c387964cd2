package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.GaussianDraw;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.noise.NoisePool;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.NoiseSources;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The float64 clipped sum released piece by piece gives, bit for bit, what the whole-buffer path
 * gives (round32(whole float64 drain + the same seeded noise), {@link DpSgdStep#addNoise} on the
 * whole drained vector): for several piece lengths, noise thread counts, with frozen ranges, with
 * extra examples (whole mode), from a model that drains only whole, over two simulated processes
 * whose float64 sums meet before the noise; and a failure never lets an un-noised sum reach the
 * next step.
 */
class PiecewiseNoisySumTest {
    private static final int A = GaussianDraw.ALIGNMENT;
    // a.weight 150·400, a.bias 150, b.weight 5·150, b.bias 5: 60,905 coordinates, 3.7 pieces of ALIGNMENT.
    private static final Shape INPUT = new Shape(1, 20, 20);

    /** Two linear layers: a.weight, a.bias, b.weight, b.bias (freezing "a.bias" leaves a gap between two ranges). */
    private static Network network() {
        return new Network(
                "two-linear",
                INPUT,
                5,
                List.of(
                        new Layer.Flatten(),
                        new Layer.Linear("a", 400, 150, true),
                        new Layer.Linear("b", 150, 5, true)));
    }

    /** A model whose float64 accumulator the test sets; drains ranges or only whole. */
    private static final class ArrayModel implements TrainableModel {
        final Network net;
        final double[] acc;
        final boolean ranged;
        int drains;
        Runnable beforeRangedDrain = () -> {};

        ArrayModel(boolean ranged) {
            this(PiecewiseNoisySumTest.network(), ranged);
        }

        ArrayModel(Network net, boolean ranged) {
            this.net = net;
            this.acc = new double[Math.toIntExact(net.parameterCount())];
            this.ranged = ranged;
        }

        @Override
        public Network network() {
            return net;
        }

        @Override
        public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
            throw new UnsupportedOperationException();
        }

        @Override
        public BatchStats accumulateUnclipped(DeviceBatch batch) {
            throw new UnsupportedOperationException();
        }

        @Override
        public double[] perSampleGradientNorms(DeviceBatch batch) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void drainGradientSum(float[] into) {
            throw new AssertionError("a private sum drained as float");
        }

        @Override
        public void drainGradientSum(double[] into) {
            drains++;
            System.arraycopy(acc, 0, into, 0, acc.length);
            Arrays.fill(acc, 0);
        }

        @Override
        public boolean drainsRanges() {
            return ranged;
        }

        @Override
        public void drainGradientSum(double[] into, int from, int to, int at) {
            if (!ranged) {
                TrainableModel.super.drainGradientSum(into, from, to, at);
                return;
            }
            beforeRangedDrain.run();
            drains++;
            System.arraycopy(acc, from, into, at, to - from);
            Arrays.fill(acc, from, to, 0);
        }

        @Override
        public void readParameters(float[] into) {}

        @Override
        public void writeParameters(float[] from) {}

        @Override
        public BatchStats evaluate(DeviceBatch batch) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {}
    }

    private static double[] sums(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian() * 0.37 + 1e-10 * r.nextDouble(); // not floats
        return v;
    }

    private static NoiseSource seeded(int threads) {
        return NoiseSources.create(NoiseMode.FAST_INSECURE, 77, w -> {}, false, NoisePool.of(threads));
    }

    private static TrainableMask mask(boolean frozen) {
        Network net = network();
        return frozen
                ? TrainableMask.of(net, List.of("a.bias"))
                : TrainableMask.all(Math.toIntExact(net.parameterCount()));
    }

    /** The whole-buffer path on a copy of {@code sum}: DpSgdStep.addNoise, one draw per trainable range. */
    private static float[] wholeBuffer(double[] sum, TrainableMask mask, NoiseSource noise, double std) {
        float[] out = new float[sum.length];
        new DpSgdStep(noise, null, mask).addNoise(sum.clone(), std, out);
        return out;
    }

    static Stream<Arguments> pieces() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int piece : new int[] {A, 3 * A, PiecewiseNoisySum.DEFAULT_PIECE})
            for (int threads : new int[] {1, 3})
                for (boolean ranged : new boolean[] {true, false})
                    for (boolean frozen : new boolean[] {false, true})
                        b.add(Arguments.of(piece, threads, ranged, frozen));
        return b.build();
    }

    @ParameterizedTest(name = "piece={0} threads={1} ranged={2} frozen={3}")
    @MethodSource("pieces")
    void piecesReleaseWhatTheWholeBufferReleases(int piece, int threads, boolean ranged, boolean frozen) {
        ArrayModel model = new ArrayModel(ranged);
        int n = model.acc.length;
        assertTrue(n > 3 * A + 1, "the model spans several pieces: " + n);
        TrainableMask mask = mask(frozen);
        PiecewiseNoisySum pieces = new PiecewiseNoisySum(model, mask, piece, false);
        assertEquals(ranged, pieces.wholeSum() == null, "whole mode exactly when the model cannot drain ranges");
        NoiseSource noise = seeded(threads);
        NoiseSource reference = seeded(1);
        for (int step = 0; step < 3; step++) {
            double[] s = sums(n, step);
            System.arraycopy(s, 0, model.acc, 0, n);
            pieces.startAccumulating();
            pieces.finishAccumulating(false);
            float[] out = new float[n];
            Arrays.fill(out, Float.NaN); // every coordinate must be written
            pieces.release(null, noise, 0.9, out);
            assertArrayEquals(wholeBuffer(s, mask, reference, 0.9), out, "step " + step);
            assertArrayEquals(new double[n], model.acc, "the accumulator is drained");
            assertEquals(reference.exportState(), noise.exportState(), "one noise call per trainable range");
        }
        if (!ranged) assertEquals(3, model.drains, "whole mode: one whole drain per step");
        if (ranged && !frozen) assertEquals(3 * ((n + piece - 1) / piece), model.drains, "one ranged drain per piece");
    }

    /** A 2-process run: each rank's pieces meet (float64, before the noise) in a simulated allreduce; rank 0 adds the noise. */
    @ParameterizedTest(name = "piece={0}")
    @MethodSource("twoProcessPieces")
    void twoProcessesSumEachPieceBeforeItsNoise(int piece) throws Exception {
        ArrayModel m0 = new ArrayModel(true), m1 = new ArrayModel(false); // one drains ranges, one only whole
        int n = m0.acc.length;
        TrainableMask mask = mask(true);
        Exchange ex = new Exchange();
        PiecewiseNoisySum p0 = new PiecewiseNoisySum(m0, mask, piece, false);
        PiecewiseNoisySum p1 = new PiecewiseNoisySum(m1, mask, piece, false);
        NoiseSource noise = seeded(2);
        NoiseSource reference = seeded(1);
        ExecutorService rank1 = Executors.newSingleThreadExecutor();
        try {
            for (int step = 0; step < 2; step++) {
                double[] s0 = sums(n, 10 + step), s1 = sums(n, 20 + step);
                System.arraycopy(s0, 0, m0.acc, 0, n);
                System.arraycopy(s1, 0, m1.acc, 0, n);
                float[] out0 = new float[n], out1 = new float[n];
                Future<?> other = rank1.submit(() -> {
                    p1.startAccumulating();
                    p1.finishAccumulating(false);
                    p1.release(ex.rank(1), null, 0.9, out1);
                });
                p0.startAccumulating();
                p0.finishAccumulating(false);
                p0.release(ex.rank(0), noise, 0.9, out0);
                other.get();
                double[] global = new double[n];
                for (int i = 0; i < n; i++) global[i] = s0[i] + s1[i];
                float[] expected = wholeBuffer(global, mask, reference, 0.9);
                assertArrayEquals(expected, out0, "step " + step);
                assertArrayEquals(new float[n], out1, "a rank without noise writes nothing");
                // What each rank put into the allreduce is its own un-noised, unrounded sum (the
                // trainable coordinates, piece after piece): the sum happens before any noise.
                assertArrayEquals(trainable(s0, mask), ex.received(0), "rank 0 sent noise or rounded values");
                assertArrayEquals(trainable(s1, mask), ex.received(1), "rank 1 sent other values");
                // The check can fail: rounding each rank's sum to float before the allreduce gives other floats.
                double[] early = new double[n];
                for (int i = 0; i < n; i++) early[i] = (float) s0[i] + (double) (float) s1[i];
                NoiseSource sameCall = seeded(1);
                sameCall.restoreState((long) step * mask.ranges());
                assertTrue(!Arrays.equals(expected, wholeBuffer(early, mask, sameCall, 0.9)), "the test cannot fail");
            }
        } finally {
            rank1.shutdownNow();
        }
        assertEquals(ex.calls0, ex.calls1, "both ranks made the same cross-process sums");
        // Trainable ranges [0, 60000) and [60150, 60905): one sum per piece of each, none for a.bias.
        int perStep = (60_000 + piece - 1) / piece + (755 + piece - 1) / piece;
        assertEquals(2 * perStep, ex.calls0);
    }

    private static double[] trainable(double[] v, TrainableMask mask) {
        return java.util.stream.IntStream.range(0, mask.ranges())
                .flatMap(r -> java.util.stream.IntStream.range(mask.from(r), mask.to(r)))
                .mapToDouble(i -> v[i])
                .toArray();
    }

    static Stream<Integer> twoProcessPieces() {
        return Stream.of(A, 2 * A, PiecewiseNoisySum.DEFAULT_PIECE);
    }

    /** A simulated float64 allreduce of two ranks: each posts its piece, both read rank 0's + rank 1's. */
    private static final class Exchange {
        final CyclicBarrier barrier = new CyclicBarrier(2);
        final double[][] posted = new double[2][];
        int calls0, calls1;
        final List<List<double[]>> sent = List.of(new ArrayList<>(), new ArrayList<>());

        /** Everything rank r has put into the allreduce since the last call, concatenated. */
        double[] received(int r) {
            double[] all = sent.get(r).stream().flatMapToDouble(Arrays::stream).toArray();
            sent.get(r).clear();
            return all;
        }

        GradientReduction rank(int r) {
            return new GradientReduction() {
                @Override
                public boolean drawsNoise() {
                    return r == 0;
                }

                @Override
                public int processes() {
                    return 2;
                }

                @Override
                public void sumAcrossProcesses(double[] sum) {
                    try {
                        posted[r] = sum.clone();
                        sent.get(r).add(sum.clone());
                        barrier.await(60, java.util.concurrent.TimeUnit.SECONDS);
                        if (posted[0].length != posted[1].length)
                            throw new AssertionError(
                                    "ranks' pieces differ: " + posted[0].length + " vs " + posted[1].length);
                        for (int i = 0; i < sum.length; i++) sum[i] = posted[0][i] + posted[1][i];
                        if (r == 0) calls0++;
                        else calls1++;
                        barrier.await(60, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }

                @Override
                public void shareNoisySum(float[] sum) {}
            };
        }
    }

    /**
     * A release that fails half-way (here the cross-process sum of the second piece) leaves the rest
     * of the un-noised sum in the model; the next step drops it before it accumulates, so its release
     * is its own sum alone. A failed accumulation is drained at once.
     */
    @Test
    void aFailureNeverLeaksAnUnNoisedSumIntoTheNextStep() {
        ArrayModel model = new ArrayModel(true);
        int n = model.acc.length;
        TrainableMask mask = mask(false);
        PiecewiseNoisySum pieces = new PiecewiseNoisySum(model, mask, A, false);
        GradientReduction failsOnSecond = new GradientReduction() {
            int calls;

            @Override
            public boolean drawsNoise() {
                return true;
            }

            @Override
            public void sumAcrossProcesses(double[] sum) {
                if (++calls == 2) throw new IllegalStateException("link down");
            }

            @Override
            public void shareNoisySum(float[] sum) {}
        };
        NoiseSource noise = seeded(1);
        pieces.startAccumulating();
        System.arraycopy(sums(n, 1), 0, model.acc, 0, n);
        pieces.finishAccumulating(false);
        assertThrows(IllegalStateException.class, () -> pieces.release(failsOnSecond, noise, 0.9, new float[n]));
        assertTrue(Arrays.stream(model.acc).anyMatch(v -> v != 0), "the failure left part of the sum in the model");

        nextStepReleasesItsOwnSum(pieces, model, mask, noise, 2);

        pieces.startAccumulating();
        System.arraycopy(sums(n, 3), 0, model.acc, 0, n);
        pieces.finishAccumulating(true);
        assertArrayEquals(new double[n], model.acc, "a failed accumulation is drained at once");
        assertThrows(IllegalStateException.class, () -> pieces.release(null, noise, 0.9, new float[n]));
    }

    /**
     * The step after a failed release (call 0 of seeded(1) opened and lost): startAccumulating drops the leftover, and
     * the step releases its own sum alone, with call 1's noise.
     */
    private static void nextStepReleasesItsOwnSum(
            PiecewiseNoisySum pieces, ArrayModel model, TrainableMask mask, NoiseSource noise, long seed) {
        int n = model.acc.length;
        pieces.startAccumulating(); // the next step: drops the leftover before accumulating
        assertArrayEquals(new double[n], model.acc);
        double[] own = sums(n, seed);
        System.arraycopy(own, 0, model.acc, 0, n);
        pieces.finishAccumulating(false);
        float[] out = new float[n];
        pieces.release(null, noise, 0.9, out);
        NoiseSource reference = seeded(1);
        reference.restoreState(1); // the failed release opened its draw (call 0)
        assertArrayEquals(wholeBuffer(own, mask, reference, 0.9), out);
    }

    @Test
    void pieceLengthsMustBeWholeAlignments() {
        ArrayModel model = new ArrayModel(true);
        TrainableMask mask = mask(false);
        assertThrows(IllegalArgumentException.class, () -> new PiecewiseNoisySum(model, mask, A + 1, false));
        assertThrows(IllegalArgumentException.class, () -> new PiecewiseNoisySum(model, mask, 0, false));
    }

    // ---- The trainer: what it shares is round32(drained float64 sum [+ extras] + the seeded noise). ----

    private static final Shape IMAGE = new Shape(1, 64, 64); // logistic regression: 4096·10 + 10 = 40,970 coordinates

    private static ExperimentConfig config() {
        return ConfigLoader.applyOverrides(ConfigLoader.parse("""
                seed: 21
                model: {name: small-cnn}
                data: {format: synthetic, loader_threads: 1}
                privacy: {clip_norm: 0.5, noise_multiplier: 0.02, delta: 1e-4, noise: fast-insecure}
                training: {batch_size: 40, steps: 4, micro_batch_size: 16}
                optimizer: {name: sgd, lr: 0.3}
                """, "pieces.yaml"), Map.of());
    }

    /** Rebuilds each step's whole drained float64 sum from the trainer's drains, ranged or whole. */
    private static final class Recorder extends ForwardingTrainableModel {
        final List<double[]> steps = new ArrayList<>();
        final int n;
        int ranged;

        Recorder(TrainableModel base) {
            super(base);
            this.n = Math.toIntExact(base.network().parameterCount());
        }

        @Override
        public boolean drainsRanges() {
            return delegate().drainsRanges();
        }

        @Override
        public void drainGradientSum(double[] into, int from, int to, int at) {
            delegate().drainGradientSum(into, from, to, at);
            ranged++;
            if (from == 0) steps.add(new double[n]);
            System.arraycopy(into, at, steps.get(steps.size() - 1), from, to - from);
        }

        @Override
        public void drainGradientSum(double[] into) {
            delegate().drainGradientSum(into);
            steps.add(into.clone());
        }
    }

    /** Two extra examples with fixed float64 "clipped gradients"; records the sum they leave behind. */
    private static final class FixedExtras implements ExtraExamples {
        final double[][] grads;
        final List<double[]> after = new ArrayList<>();

        FixedExtras(int n) {
            grads = new double[][] {sums(n, 91), sums(n, 92)};
            for (double[] g : grads) for (int i = 0; i < n; i++) g[i] *= 1e-4; // norm well below C
        }

        @Override
        public int count() {
            return 2;
        }

        @Override
        public void addClippedGradient(int index, double[] clippedSum, ClipPolicy clip) {
            for (int i = 0; i < clippedSum.length; i++) clippedSum[i] += grads[index][i];
            after.add(clippedSum.clone());
        }
    }

    static Stream<Arguments> trainerCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int piece : new int[] {A, 3 * A, PiecewiseNoisySum.DEFAULT_PIECE})
            for (int threads : new int[] {1, 4})
                for (boolean extras : new boolean[] {false, true}) b.add(Arguments.of(piece, threads, extras));
        return b.build();
    }

    @ParameterizedTest(name = "piece={0} threads={1} extras={2}")
    @MethodSource("trainerCases")
    void theTrainerSharesTheWholeBufferValues(int piece, int threads, boolean extras) {
        ExperimentConfig c = config();
        InMemoryDataset train = SyntheticData.blobs(300, IMAGE, 10, 1.0, 0.3, 4);
        Recorder model = new Recorder(LogisticRegressionModel.zeros(IMAGE, 10));
        int n = model.n;
        FixedExtras extra = extras ? new FixedExtras(n) : null;
        List<float[]> shared = new ArrayList<>();
        GradientReduction reduction = new GradientReduction() {
            @Override
            public boolean drawsNoise() {
                return true;
            }

            @Override
            public void sumAcrossProcesses(double[] sum) {}

            @Override
            public void shareNoisySum(float[] sum) {
                shared.add(sum.clone());
            }
        };
        List<double[]> beforeNoise = new ArrayList<>();
        double std;
        DpSgdTrainer.Builder b = DpSgdTrainer.builder(c, train, model)
                .accountants(UnamplifiedRdpAccountant::new)
                .noise(seeded(threads))
                .drainPiece(piece)
                .reduction(reduction)
                .log(s -> {});
        if (extra != null) b.extraExamples(extra);
        try (DpSgdTrainer t = b.build()) {
            while (t.canStep()) {
                int extrasBefore = extra == null ? 0 : extra.after.size();
                t.step();
                double[] sum = model.steps.get(model.steps.size() - 1);
                if (extra != null && extra.after.size() > extrasBefore) sum = extra.after.get(extra.after.size() - 1);
                beforeNoise.add(sum);
            }
            std = t.mechanism().noiseStd();
        }
        assertEquals(4, shared.size());
        assertEquals(extras ? 0 : 4 * ((n + piece - 1) / piece), model.ranged, "ranged drains exactly without extras");
        if (extras) assertTrue(!extra.after.isEmpty(), "no extra example was sampled: the case tests nothing");
        NoiseSource reference = seeded(1);
        int differs = 0;
        for (int k = 0; k < 4; k++) {
            double[] sum = beforeNoise.get(k);
            float[] expected = wholeBuffer(sum, TrainableMask.all(n), reference, std);
            assertArrayEquals(expected, shared.get(k), "step " + k);
            for (int i = 0; i < n; i++) if ((float) sum[i] != 0 && expected[i] != (float) sum[i]) differs++;
        }
        assertTrue(differs > 0, "the noise changed nothing: the test cannot fail");
    }
    // ---- The piece loop overlaps a piece's noise with the next piece's drain: same bits, bounded. ----

    /** Two linear layers of the given sizes (input 1×h×w). */
    private static Network network(int h, int w, int hidden, int classes) {
        return new Network(
                "two-linear-" + h + "x" + w + "-" + hidden,
                new Shape(1, h, w),
                classes,
                List.of(
                        new Layer.Flatten(),
                        new Layer.Linear("a", h * w, hidden, true),
                        new Layer.Linear("b", hidden, classes, true)));
    }

    static Stream<Arguments> parallelCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (long seed = 1; seed <= 3; seed++)
            for (int threads : new int[] {1, 2, 3, 7})
                for (int piece : new int[] {A, 2 * A, 5 * A, PiecewiseNoisySum.DEFAULT_PIECE})
                    b.add(Arguments.of(seed, threads, piece));
        return b.build();
    }

    /**
     * Models of seeded sizes (from under one to ~25 pieces of ALIGNMENT), ranged or whole-only, with a seeded
     * frozen layer or none: the pieces released with their noise running on 1–7 threads, overlapping
     * the next piece's drain, give the sequential whole-buffer path's bits (DpSgdStep.addNoise on the
     * whole drained sum, noise on one thread).
     */
    @ParameterizedTest(name = "seed={0} threads={1} piece={2}")
    @MethodSource("parallelCases")
    void parallelPiecesGiveTheSequentialBits(long seed, int threads, int piece) {
        SplittableRandom r = new SplittableRandom(seed * 7919 + threads * 31L + piece);
        Network net = network(8 + r.nextInt(25), 8 + r.nextInt(25), 1 + r.nextInt(400), 2 + r.nextInt(9));
        ArrayModel model = new ArrayModel(net, r.nextBoolean());
        int n = model.acc.length;
        String[] freeze = {null, "a.bias", "b.weight", "a.weight"};
        String frozen = freeze[r.nextInt(freeze.length)];
        TrainableMask mask = frozen == null ? TrainableMask.all(n) : TrainableMask.of(net, List.of(frozen));
        PiecewiseNoisySum pieces = new PiecewiseNoisySum(model, mask, piece, false);
        NoiseSource noise = seeded(threads);
        NoiseSource reference = seeded(1);
        for (int step = 0; step < 2; step++) {
            double[] s = sums(n, r.nextLong());
            System.arraycopy(s, 0, model.acc, 0, n);
            pieces.startAccumulating();
            pieces.finishAccumulating(false);
            float[] out = new float[n];
            Arrays.fill(out, Float.NaN);
            double std = 0.2 + r.nextDouble();
            pieces.release(null, noise, std, out);
            assertArrayEquals(
                    wholeBuffer(s, mask, reference, std),
                    out,
                    "step " + step + ", n=" + n + ", frozen " + frozen + ", ranged " + model.ranged);
            assertArrayEquals(new double[n], model.acc, "the accumulator is drained");
        }
        assertEquals(reference.exportState(), noise.exportState(), "one noise call per trainable range");
    }

    /**
     * Noise whose pieces run only when awaited, at the latest moment the loop allows: a buffer drained
     * into again before its piece's noise ran, or a release that returns with noise not yet run, gives
     * other values (deterministically, no timing). Counts the pieces started and awaited.
     */
    private static final class DeferredNoise implements NoiseSource {
        final NoiseSource inner = seeded(1);
        int started, awaited;
        /** The piece (in start order) whose noise fails when awaited; -1 for none. */
        int failAt = -1;

        int inFlight() {
            return started - awaited;
        }

        @Override
        public GaussianDraw openDraw(int n, double std) {
            double[] z = new double[n];
            inner.addGaussian(z, 0, n, std); // one call, the same draws (the interface's default)
            return new GaussianDraw() {
                int position;

                @Override
                public int length() {
                    return n;
                }

                @Override
                public void addTo(double[] v, int at, int offset, int count) {
                    throw new AssertionError("the piece loop starts its pieces");
                }

                @Override
                public Pending startAddRounded(double[] v, int at, int offset, int count, float[] out, int outAt) {
                    position = GaussianDraw.checkPiece(n, position, v, at, offset, count);
                    int index = started++;
                    boolean[] done = {false};
                    return () -> {
                        if (done[0]) throw new AssertionError("a piece's work awaited twice");
                        done[0] = true;
                        awaited++;
                        if (index == failAt) throw new IllegalStateException("noise failed in piece " + index);
                        for (int k = 0; k < count; k++) out[outAt + k] = (float) (v[at + k] + z[offset + k]);
                    };
                }
            };
        }

        @Override
        public void addGaussian(float[] v, int from, int to, double std) {
            throw new AssertionError();
        }

        @Override
        public void addGaussian(double[] v, int from, int to, double std) {
            throw new AssertionError();
        }

        @Override
        public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
            throw new AssertionError();
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
            return "deferred";
        }
    }

    static Stream<Arguments> deferredCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (int piece : new int[] {A, 2 * A})
            for (boolean ranged : new boolean[] {true, false})
                for (boolean frozen : new boolean[] {false, true}) b.add(Arguments.of(piece, ranged, frozen));
        return b.build();
    }

    /**
     * The loop overlaps exactly one piece's noise with the next piece's drain and cross-process sum:
     * when piece j is drained and summed, piece j-1's noise may still be pending (one piece), never
     * piece j's own buffer's earlier occupant; and nothing is pending when release returns.
     */
    @ParameterizedTest(name = "piece={0} ranged={1} frozen={2}")
    @MethodSource("deferredCases")
    void oneNoisyPieceOverlapsTheNextDrainAndNoneOutlivesRelease(int piece, boolean ranged, boolean frozen) {
        ArrayModel model = new ArrayModel(ranged);
        int n = model.acc.length;
        TrainableMask mask = mask(frozen);
        DeferredNoise noise = new DeferredNoise();
        List<Integer> atDrain = new ArrayList<>(), atSum = new ArrayList<>();
        model.beforeRangedDrain = () -> atDrain.add(noise.inFlight());
        GradientReduction reduction = new GradientReduction() {
            @Override
            public boolean drawsNoise() {
                return true;
            }

            @Override
            public void sumAcrossProcesses(double[] sum) {
                atSum.add(noise.inFlight());
            }

            @Override
            public void shareNoisySum(float[] sum) {}
        };
        PiecewiseNoisySum pieces = new PiecewiseNoisySum(model, mask, piece, false);
        NoiseSource reference = seeded(1);
        for (int step = 0; step < 2; step++) {
            double[] s = sums(n, 40 + step);
            System.arraycopy(s, 0, model.acc, 0, n);
            pieces.startAccumulating();
            pieces.finishAccumulating(false);
            float[] out = new float[n];
            Arrays.fill(out, Float.NaN);
            atDrain.clear();
            atSum.clear();
            pieces.release(reduction, noise, 0.9, out);
            assertEquals(0, noise.inFlight(), "noise still pending after release returned");
            assertArrayEquals(wholeBuffer(s, mask, reference, 0.9), out, "step " + step);
            assertEquals(1, atSum.stream().mapToInt(Integer::intValue).max().orElse(-1), "pieces in flight at a sum");
            if (ranged)
                assertEquals(
                        1, atDrain.stream().mapToInt(Integer::intValue).max().orElse(-1), "in flight at a drain");
        }
        assertTrue(noise.started >= 4, "at least two pieces a step: " + noise.started);
    }

    /**
     * Noise that fails in a middle piece or in the last one: release throws that failure (never a sum released with
     * a piece un-noised) and waits for every other piece first (review of noise7, S1: a swallowed failure survived).
     */
    @ParameterizedTest(name = "last={0}")
    @ValueSource(booleans = {false, true})
    void aFailedPieceNoiseFailsTheRelease(boolean last) {
        ArrayModel model = new ArrayModel(true);
        int n = model.acc.length;
        TrainableMask mask = mask(false);
        DeferredNoise counting = new DeferredNoise();
        PiecewiseNoisySum pieces = new PiecewiseNoisySum(model, mask, A, false);
        System.arraycopy(sums(n, 7), 0, model.acc, 0, n);
        pieces.startAccumulating();
        pieces.finishAccumulating(false);
        pieces.release(null, counting, 0.9, new float[n]);
        int total = counting.started;
        assertTrue(total >= 3, "a middle piece needs three pieces: " + total);

        DeferredNoise noise = new DeferredNoise();
        noise.failAt = last ? total - 1 : 1;
        System.arraycopy(sums(n, 8), 0, model.acc, 0, n);
        pieces.startAccumulating();
        pieces.finishAccumulating(false);
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> pieces.release(null, noise, 0.9, new float[n]));
        assertEquals("noise failed in piece " + noise.failAt, e.getMessage());
        assertEquals(0, noise.inFlight(), "a piece's noise outlived the failed release");
    }

    /** A drain that fails while a piece's noise is pending: release waits for that noise before it throws. */
    @Test
    void aFailedDrainWaitsForTheNoiseInFlight() {
        ArrayModel model = new ArrayModel(true);
        int n = model.acc.length;
        TrainableMask mask = mask(false);
        DeferredNoise noise = new DeferredNoise();
        int[] drains = {0};
        model.beforeRangedDrain = () -> {
            if (++drains[0] == 3) throw new IllegalStateException("device lost");
        };
        PiecewiseNoisySum pieces = new PiecewiseNoisySum(model, mask, A, false);
        System.arraycopy(sums(n, 5), 0, model.acc, 0, n);
        pieces.startAccumulating();
        pieces.finishAccumulating(false);
        assertThrows(IllegalStateException.class, () -> pieces.release(null, noise, 0.9, new float[n]));
        assertEquals(2, noise.started);
        assertEquals(0, noise.inFlight(), "a piece's noise outlived the failed release");

        model.beforeRangedDrain = () -> {};
        nextStepReleasesItsOwnSum(pieces, model, mask, noise, 6);
    }
}
