package org.dpsgd.audit;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.train.ExtraExamples;

/**
 * White-box "Dirac" gradient canaries (Nasr et al. 2023; Steinke, Nasr &amp; Jagielski 2023): canary
 * k owns one distinct trainable coordinate c_k and, when included, is an extra example of the
 * private dataset whose clipped gradient is the sensitivity C on c_k and 0 elsewhere, the largest
 * change one example may make. Each canary's coin (IN with probability ½) and coordinate are drawn
 * before training; only IN canaries are extra examples, so the trainer's Poisson sampler draws each
 * of them with the same q as every real example. OUT canaries are never trained on, but their
 * coordinates are scored like the others'.
 *
 * <p>The coins are the audit's secret: they go only into the run's audit file.
 */
public final class GradientCanaries implements ExtraExamples {
    private final int[] coordinates;
    private final boolean[] in;
    private final int[] included; // canary of each extra example, in index order

    /**
     * Canaries with given coordinates and coins (tests, or an auditor's own draw).
     *
     * @param coordinates distinct coordinates, one per canary
     * @param in the coins: true = IN
     */
    public GradientCanaries(int[] coordinates, boolean[] in) {
        if (coordinates.length != in.length)
            throw new IllegalArgumentException(coordinates.length + " coordinates but " + in.length + " coins");
        if (Arrays.stream(coordinates).distinct().count() != coordinates.length)
            throw new IllegalArgumentException("canary coordinates must be distinct");
        this.coordinates = coordinates.clone();
        this.in = in.clone();
        this.included = java.util.stream.IntStream.range(0, in.length)
                .filter(k -> in[k])
                .toArray();
    }

    /**
     * Draws {@code m} canaries: fair coins and m distinct coordinates, uniform among the trainable
     * ones of {@code mask}. Pass a secure generator (e.g. {@code new SecureRandom()}) for a real audit.
     */
    public static GradientCanaries draw(int m, TrainableMask mask, RandomGenerator rng) {
        return draw(m, mask.trainableCount(), rank -> coordinateOfRank(mask, rank), rng);
    }

    /** As {@link #draw(int, TrainableMask, RandomGenerator)}, among the given coordinates only (an auditor may pick where its canaries live). */
    public static GradientCanaries draw(int m, int[] eligible, RandomGenerator rng) {
        int[] e = eligible.clone();
        return draw(m, e.length, rank -> e[(int) rank], rng);
    }

    private static GradientCanaries draw(
            int m, long trainable, java.util.function.LongToIntFunction coordinateOfRank, RandomGenerator rng) {
        if (m < 2) throw new IllegalArgumentException("an audit needs at least 2 canaries, got " + m);
        if (m > trainable) {
            throw new IllegalArgumentException(
                    m + " canaries need " + m + " distinct trainable coordinates but the model has only " + trainable
                            + "; use fewer canaries (--canaries)");
        }
        // Floyd's algorithm: m distinct ranks in [0, trainable) in O(m), without a list of every coordinate.
        Set<Long> ranks = new HashSet<>();
        for (long j = trainable - m; j < trainable; j++) {
            long t = rng.nextLong(j + 1);
            ranks.add(ranks.contains(t) ? j : t);
        }
        long[] sorted = ranks.stream().mapToLong(Long::longValue).toArray();
        // Shuffle so that a canary's index says nothing about where its coordinate lies.
        for (int i = sorted.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            long s = sorted[i];
            sorted[i] = sorted[j];
            sorted[j] = s;
        }
        int[] coords = new int[m];
        for (int k = 0; k < m; k++) coords[k] = coordinateOfRank.applyAsInt(sorted[k]);
        boolean[] coins = new boolean[m];
        for (int k = 0; k < m; k++) coins[k] = rng.nextBoolean();
        return new GradientCanaries(coords, coins);
    }

    private static int coordinateOfRank(TrainableMask mask, long rank) {
        long left = rank;
        for (int r = 0; r < mask.ranges(); r++) {
            int len = mask.to(r) - mask.from(r);
            if (left < len) return mask.from(r) + (int) left;
            left -= len;
        }
        throw new IllegalStateException("rank " + rank + " beyond the trainable coordinates");
    }

    /** The IN canaries: only they are examples the sampler draws from. */
    @Override
    public int count() {
        return included.length;
    }

    /** Each canary owns a distinct coordinate, so at most one canary adds to any coordinate (none without IN canaries). */
    @Override
    public int addsPerCoordinate() {
        return Math.min(1, count());
    }

    @Override
    public void addClippedGradient(int index, double[] clippedSum, ClipPolicy clip) {
        int c = coordinates[included[index]];
        clippedSum[c] += clip.sensitivity();
    }

    /** m. */
    public int size() {
        return coordinates.length;
    }

    /** Canary k's coordinate (flat, in Network.parameters() order). */
    public int[] coordinates() {
        return coordinates.clone();
    }

    /** The coins: true = IN (trained on). Secret until the audit is scored. */
    public boolean[] coins() {
        return in.clone();
    }
}
