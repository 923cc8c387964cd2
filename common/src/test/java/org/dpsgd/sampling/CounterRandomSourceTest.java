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
