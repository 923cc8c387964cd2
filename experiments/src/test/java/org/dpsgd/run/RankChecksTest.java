package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dpsgd.distributed.Communicator;
import org.dpsgd.distributed.InProcessGroup;
import org.junit.jupiter.api.Test;

class RankChecksTest {
    private static final String HOLDS = "norms unchanged with every example moved one slot on (16 slots)";
    private static final String MOVES = "NORMS MOVE: 2 of 16 examples change their norm's bits in another slot";

    /** Each rank's exchange of its own versions, on W threads; rank 0's result. */
    private static RankChecks exchange(List<Map<String, String>> perRank) throws Exception {
        List<Communicator> ranks = new InProcessGroup(perRank.size()).ranks();
        ExecutorService pool = Executors.newFixedThreadPool(perRank.size());
        try {
            List<Future<RankChecks>> fs = new ArrayList<>();
            for (Communicator c : ranks) fs.add(pool.submit(() -> RankChecks.exchange(c, perRank.get(c.rank()))));
            RankChecks first = fs.get(0).get(60, TimeUnit.SECONDS);
            for (Future<RankChecks> f : fs) assertEquals(first, f.get(60, TimeUnit.SECONDS), "every rank gets all");
            return first;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFollowerWhoseNormsMoveIsWarnedAboutByRankZeroAndRecorded() throws Exception {
        RankChecks checks = exchange(List.of(
                Map.of("djl", "0.36.0", "slot_invariance_model", HOLDS),
                Map.of("djl", "0.36.0", "slot_invariance_model", HOLDS, "mkl_cbwr", "AUTO,STRICT"),
                Map.of("slot_invariance_model", MOVES, "slot_invariance", "ROWS MOVE: 3 of 88 probed products")));
        assertEquals(
                List.of(
                        "WARNING: rank 2: slot_invariance: ROWS MOVE: 3 of 88 probed products",
                        "WARNING: rank 2: slot_invariance_model: " + MOVES),
                checks.warnings().stream().sorted().toList());
        assertEquals(
                List.of(
                        Map.of("rank", 0, "slot_invariance_model", HOLDS),
                        Map.of("rank", 1, "slot_invariance_model", HOLDS, "mkl_cbwr", "AUTO,STRICT"),
                        Map.of(
                                "rank",
                                2,
                                "slot_invariance_model",
                                MOVES,
                                "slot_invariance",
                                "ROWS MOVE: 3 of 88 probed products")),
                checks.toJson(),
                "only the checks travel, not every version");
    }

    @Test
    void ranksWithTheSameFindingShareOneLine() throws Exception {
        String unchecked = "NOT CHECKABLE: the same call made twice gave 16 of 16 examples other norm bits";
        Map<String, String> ipu = Map.of("slot_invariance_model", unchecked);
        RankChecks checks = exchange(List.of(ipu, ipu, Map.of("slot_invariance_model", HOLDS), ipu, ipu));
        assertEquals(List.of("WARNING: ranks 1, 3, 4: slot_invariance_model: " + unchecked), checks.warnings());
    }

    @Test
    void rankZerosOwnFindingsAreNotRepeatedAndHeldChecksAreQuiet() throws Exception {
        RankChecks checks = exchange(List.of(
                Map.of("slot_invariance_model", "NOT CHECKABLE: the same call made twice gave 3 of 16 examples"),
                Map.of("slot_invariance_model", HOLDS),
                Map.of()));
        assertEquals(List.of(), checks.warnings(), "rank 0 has said its own; ranks 1 and 2 showed nothing wrong");
        assertEquals(3, checks.toJson().size());
        assertEquals(Map.of("rank", 2), checks.toJson().get(2));
    }
}
