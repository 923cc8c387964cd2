package org.dpsgd.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ParameterConsistencyTest {

    /** Runs check() on W threads with each rank's parameters; returns each rank's error message (null = passed). */
    private static List<String> check(float[]... perRank) throws Exception {
        List<Communicator> ranks = new InProcessGroup(perRank.length).ranks();
        ExecutorService pool = Executors.newFixedThreadPool(perRank.length);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (Communicator c : ranks) {
                fs.add(pool.submit(() -> {
                    try {
                        new ParameterConsistency(c).check(40, perRank[c.rank()]);
                        return null;
                    } catch (IllegalStateException e) {
                        return e.getMessage();
                    }
                }));
            }
            List<String> out = new ArrayList<>();
            for (Future<String> f : fs) out.add(f.get(60, TimeUnit.SECONDS));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void identicalParametersPass() throws Exception {
        float[] p = {1f, -2.5f, 3e-8f, 0f};
        assertEquals(java.util.Arrays.asList(null, null, null), check(p, p.clone(), p.clone()));
    }

    @Test
    void oneDivergedRankStopsEveryRankNamingIt() throws Exception {
        float[] p = {1f, -2.5f, 3e-8f, 0f};
        float[] q = p.clone();
        q[2] = Math.nextUp(q[2]); // one ulp: the smallest possible divergence
        List<String> errors = check(p, p.clone(), q);
        for (String e : errors) {
            assertTrue(
                    e != null && e.contains("diverged across ranks at step 40") && e.contains("rank(s) [2]"),
                    String.valueOf(e));
        }
    }

    @Test
    void signOfZeroCounts() {
        // -0f and 0f compare equal as floats but are different parameters' bits (a rank that computed
        // differently); the fingerprint looks at bits.
        assertNotEquals(
                ParameterConsistency.fingerprint(new float[] {0f}),
                ParameterConsistency.fingerprint(new float[] {-0f}));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void anySingleBitFlipChangesTheFingerprint(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = new float[257];
        for (int i = 0; i < p.length; i++) p[i] = (float) r.nextGaussian();
        long h = ParameterConsistency.fingerprint(p);
        for (int trial = 0; trial < 200; trial++) {
            float[] q = p.clone();
            int i = r.nextInt(q.length);
            q[i] = Float.intBitsToFloat(Float.floatToRawIntBits(q[i]) ^ (1 << r.nextInt(32)));
            assertNotEquals(h, ParameterConsistency.fingerprint(q), "flip in parameter " + i);
        }
        // and swapping two different values (order matters)
        float[] q = p.clone();
        float t = q[0];
        q[0] = q[1];
        q[1] = t;
        assertNotEquals(h, ParameterConsistency.fingerprint(q));
    }
}
