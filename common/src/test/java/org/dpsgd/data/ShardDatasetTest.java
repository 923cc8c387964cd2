package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.model.Shape;
import org.dpsgd.testing.SyntheticData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShardDatasetTest {
    @ParameterizedTest
    @CsvSource({"10, 1", "10, 2", "10, 3", "101, 4", "7, 7"})
    void ranksPartitionTheSetIntoContiguousShardsOfNearlyEqualSize(int n, int w) {
        InMemoryDataset base = SyntheticData.indexed(n, new Shape(1, 2, 2), 3);
        int next = 0;
        float[] a = new float[4];
        float[] b = new float[4];
        for (int r = 0; r < w; r++) {
            ShardDataset s = ShardDataset.forRank(base, r, w);
            assertEquals(next, s.offset(), "shards are contiguous and in rank order");
            assertTrue(s.size() == n / w || s.size() == n / w + 1, "shard size " + s.size());
            for (int i = 0; i < s.size(); i++) {
                assertEquals(base.label(next + i), s.label(i));
                s.read(i, a, 0);
                base.read(next + i, b, 0);
                assertEquals(java.util.Arrays.toString(b), java.util.Arrays.toString(a));
            }
            next += s.size();
        }
        assertEquals(n, next, "every example in exactly one shard");
    }

    @Test
    void refusesMoreRanksThanExamplesAndReadsOutsideTheShard() {
        InMemoryDataset base = SyntheticData.indexed(3, new Shape(1, 2, 2), 3);
        var e = assertThrows(IllegalArgumentException.class, () -> ShardDataset.forRank(base, 0, 4));
        assertTrue(e.getMessage().contains("too few for 4 ranks"), e.getMessage());
        ShardDataset s = ShardDataset.forRank(base, 1, 2);
        assertThrows(IndexOutOfBoundsException.class, () -> s.label(s.size()));
    }
}
