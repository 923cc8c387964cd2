package org.dpsgd.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class CounterRandomSourceTest {

    /** Rank r of w holds [⌊r·n/w⌋, ⌊(r+1)·n/w⌋) (ShardDataset.forRank's split). */
    private static int from(int r, int w, int n) {
        return (int) ((long) r * n / w);
    }

    @ParameterizedTest
    @CsvSource({"1, 101, 0.1", "2, 101, 0.1", "3, 1000, 0.02", "4, 37, 0.5", "7, 64, 0.3"})
    void anySplitIntoShardsSamplesTheSingleProcessBatches(int w, int n, double q) {
        PoissonSampler whole = new PoissonSampler(n, q, CounterRandomSource.whole(11, n));
        PoissonSampler[] shards = new PoissonSampler[w];
        for (int r = 0; r < w; r++) {
            int a = from(r, w, n);
            int b = from(r + 1, w, n);
            shards[r] = new PoissonSampler(b - a, q, CounterRandomSource.shard(11, n, a, b - a));
        }
        for (int step = 0; step < 30; step++) {
            int[] expected = whole.next();
            int[] union = IntStream.range(0, w)
                    .flatMap(r -> Arrays.stream(shards[r].next()).map(i -> i + from(r, w, n)))
                    .toArray();
            assertArrayEquals(expected, union, "step " + step + " with " + w + " shards");
        }
    }

    /**
     * Audit canaries drawn after the data (n + k draws per step) keep every example's draws where they were
     * (no step-boundary drift), and draw the same canaries whichever process holds them: W = 1, and rank 0
     * of a split with the canaries, sample the same examples and the same canaries.
     */
    @ParameterizedTest
    @CsvSource({"1, 101, 0.1, 5", "2, 101, 0.1, 5", "3, 1000, 0.02, 40", "4, 37, 0.5, 3"})
    void extraExamplesNeitherShiftTheExamplesNorDependOnTheSplit(int w, int n, double q, int k) {
        PoissonSampler plain = new PoissonSampler(n, q, CounterRandomSource.whole(11, n));
        PoissonSampler withExtras = new PoissonSampler(n + k, q, CounterRandomSource.shard(11, n, 0, n, k));
        PoissonSampler[] shards = new PoissonSampler[w];
        for (int r = 0; r < w; r++) {
            int a = from(r, w, n);
            int b = from(r + 1, w, n);
            int extras = r == 0 ? k : 0; // canaries on rank 0 only
            shards[r] = new PoissonSampler(b - a + extras, q, CounterRandomSource.shard(11, n, a, b - a, extras));
        }
        int canaryDraws = 0;
        for (int step = 0; step < 40; step++) {
            int[] all = withExtras.next();
            int[] examples = Arrays.stream(all).filter(i -> i < n).toArray();
            int[] canaries =
                    Arrays.stream(all).filter(i -> i >= n).map(i -> i - n).toArray();
            canaryDraws += canaries.length;
            assertArrayEquals(plain.next(), examples, "step " + step + ": canaries moved the examples' draws");
            int b0 = from(1, w, n);
            int[] rank0 = shards[0].next();
            int[] rank0Canaries =
                    Arrays.stream(rank0).filter(i -> i >= b0).map(i -> i - b0).toArray();
            assertArrayEquals(canaries, rank0Canaries, "step " + step + ": canaries differ on rank 0 of " + w);
            int[] union = IntStream.concat(
                            Arrays.stream(rank0).filter(i -> i < b0),
                            IntStream.range(1, w)
                                    .flatMap(
                                            r -> Arrays.stream(shards[r].next()).map(i -> i + from(r, w, n))))
                    .toArray();
            assertArrayEquals(examples, union, "step " + step + " with " + w + " shards");
        }
        // The canaries are sampled at q too (40·k draws): within 5 standard deviations.
        double sd = Math.sqrt(40.0 * k * q * (1 - q));
        assertEquals(40.0 * k * q, canaryDraws, 5 * sd + 1, "canary inclusion count");
    }

    @Test
    void extraDrawsAreIndependentOfTheExamplesDraws() {
        // Same seed, step and number: an example's uniform and an extra's come from different keys.
        CounterRandomSource s = CounterRandomSource.shard(3, 100, 0, 100, 10);
        long same = IntStream.range(0, 10)
                .filter(j -> s.bitsFor(0, j) == s.bitsForExtra(0, j) || s.bitsFor(0, 100 + j) == s.bitsForExtra(0, j))
                .count();
        assertEquals(0, same);
        assertThrows(IllegalArgumentException.class, () -> CounterRandomSource.shard(3, 100, 0, 100, -1));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void eachExampleJoinsWithProbabilityQIndependentlyOfTheOthers(long seed) {
        int n = 200;
        int steps = 2000;
        double q = 0.05;
        PoissonSampler s = new PoissonSampler(n, q, CounterRandomSource.whole(seed, n));
        long total = 0;
        long pairs = 0; // steps where examples 0 and 1 both join: q² if independent
        for (int t = 0; t < steps; t++) {
            int[] b = s.next();
            total += b.length;
            if (b.length >= 2 && b[0] == 0 && b[1] == 1) pairs++;
        }
        double mean = (double) total / ((long) n * steps);
        double sd = Math.sqrt(q * (1 - q) / ((double) n * steps));
        assertEquals(q, mean, 5 * sd, "inclusion rate");
        double pairSd = Math.sqrt(q * q * (1 - q * q) / steps);
        assertEquals(q * q, (double) pairs / steps, 5 * pairSd + 1e-12, "joint inclusion of two examples");
    }

    @Test
    void restoredStateContinuesTheSameStreamAndIsIndependentOfTheShardSplit() {
        CounterRandomSource a = CounterRandomSource.whole(3, 50);
        for (int i = 0; i < 175; i++) a.nextLong(); // 3 full steps + 25 draws
        CounterRandomSource b = CounterRandomSource.whole(3, 50);
        b.restoreState(a.exportState());
        for (int i = 0; i < 100; i++) assertEquals(a.nextLong(), b.nextLong());
        // A checkpoint taken at a step boundary on one rank resumes any other split at the same step.
        CounterRandomSource leader = CounterRandomSource.shard(3, 50, 0, 25);
        for (int i = 0; i < 25 * 4; i++) leader.nextLong();
        CounterRandomSource other = CounterRandomSource.shard(3, 50, 25, 25);
        other.restoreState(leader.exportState());
        assertEquals(a.bitsFor(4, 25), other.nextLong());
    }

    @Test
    void refusesAnotherSourcesState() {
        CounterRandomSource c = CounterRandomSource.whole(1, 10);
        var e = assertThrows(
                IllegalArgumentException.class, () -> c.restoreState(new SeededRandomSource(1).exportState()));
        assertTrue(e.getMessage().contains("not a counter sampler's"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CounterRandomSource.shard(1, 10, 5, 6));
    }
}
