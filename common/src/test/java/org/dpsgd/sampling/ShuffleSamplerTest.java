package org.dpsgd.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShuffleSamplerTest {
    @Test
    void fixedSizeBatchesCoverEachEpochOnceAndWarnLoudly() {
        List<String> warnings = new ArrayList<>();
        ShuffleSampler s = new ShuffleSampler(100, 30, new SeededRandomSource(3), warnings::add);
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("does NOT hold"));
        assertFalse(s.matchesAccounting());
        int[] seen = new int[100];
        for (int t = 0; t < 3; t++) {
            int[] b = s.next();
            assertEquals(30, b.length);
            for (int i : b) seen[i]++;
        }
        for (int c : seen) assertTrue(c <= 1, "no example twice within an epoch");
        assertEquals(30, s.next().length, "a new epoch starts when fewer than a batch remain");
    }

    @Test
    void seededStateResumes() {
        ShuffleSampler a = new ShuffleSampler(50, 20, new SeededRandomSource(8), w -> {});
        a.next();
        SamplerState st = a.exportState();
        ShuffleSampler b = new ShuffleSampler(50, 20, new SeededRandomSource(1), w -> {});
        b.restoreState(st);
        for (int t = 0; t < 5; t++) assertArrayEquals(a.next(), b.next());
    }
}
