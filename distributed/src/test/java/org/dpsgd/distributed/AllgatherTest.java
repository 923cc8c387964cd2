package org.dpsgd.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Communicator#allgather}: every rank's bytes, each of its own length (empty too), in rank order everywhere. */
class AllgatherTest {
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5})
    void everyRankGetsEveryRanksBytesInRankOrder(int w) throws Exception {
        List<Communicator> ranks = new InProcessGroup(w).ranks();
        ExecutorService pool = Executors.newFixedThreadPool(w);
        try {
            List<Future<List<String>>> fs = new ArrayList<>();
            for (Communicator c : ranks) {
                fs.add(pool.submit(() -> {
                    List<String> got = new ArrayList<>();
                    for (byte[] b : c.allgather(mine(c.rank()).getBytes(StandardCharsets.UTF_8)))
                        got.add(new String(b, StandardCharsets.UTF_8));
                    return got;
                }));
            }
            List<String> expected = new ArrayList<>();
            for (int r = 0; r < w; r++) expected.add(mine(r));
            for (Future<List<String>> f : fs) assertEquals(expected, f.get(60, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    /** Rank 1 sends nothing; the others a text whose length depends on the rank. */
    private static String mine(int rank) {
        return rank == 1 ? "" : "rank " + rank + " ".repeat(rank * 7) + "end";
    }
}
