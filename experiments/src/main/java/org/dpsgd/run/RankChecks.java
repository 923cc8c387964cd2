package org.dpsgd.run;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dpsgd.distributed.Communicator;

/**
 * What each rank of a data-parallel run found when it checked its own host and model before the first step: MKL's
 * mode, the product probe and the trainer's slot check (docs/core.md, "Float margin" item 2). Every rank runs these
 * checks on its own machine, but only rank 0 speaks and writes, so without this exchange a rank whose norms moved
 * under {@code slot_invariance=record} would warn into nothing and run.json would show rank 0's findings alone.
 *
 * @param ranks each rank's findings, in rank order (only the keys in {@link #KEYS} it has)
 */
record RankChecks(List<Map<String, String>> ranks) {
    /** The provenance entries that are one machine's or one model's checks, not the run's. */
    static final List<String> KEYS = List.of("mkl_cbwr", "slot_invariance", "slot_invariance_model");

    /** How the checks above begin when the premise was not shown (SlotInvarianceProbe, SlotInvarianceCheck). */
    private static final List<String> NOT_SHOWN = List.of("ROWS MOVE", "NORMS MOVE", "NOT CHECKABLE");

    /** Collective, after every rank has opened its session: every rank passes its own versions, every rank gets all. */
    static RankChecks exchange(Communicator comm, Map<String, String> versions) {
        StringBuilder mine = new StringBuilder();
        for (String k : KEYS) {
            String v = versions.get(k);
            if (v != null)
                mine.append(k).append('\t').append(v.replace('\n', ' ')).append('\n');
        }
        List<Map<String, String>> all = new ArrayList<>();
        for (byte[] b : comm.allgather(mine.toString().getBytes(StandardCharsets.UTF_8))) {
            Map<String, String> m = new LinkedHashMap<>();
            for (String line : new String(b, StandardCharsets.UTF_8).split("\n")) {
                int tab = line.indexOf('\t');
                if (tab > 0) m.put(line.substring(0, tab), line.substring(tab + 1));
            }
            all.add(m);
        }
        return new RankChecks(List.copyOf(all));
    }

    /**
     * One warning line for each finding of ranks other than 0 that did not show the premise (rank 0 has already said
     * its own): the ranks that found it, the key and what they found (an IPU job's 15 identical "NOT CHECKABLE"
     * findings are one line).
     */
    List<String> warnings() {
        Map<Map.Entry<String, String>, List<Integer>> byFinding = new LinkedHashMap<>();
        for (int r = 1; r < ranks.size(); r++) {
            for (Map.Entry<String, String> e : ranks.get(r).entrySet()) {
                if (NOT_SHOWN.stream().anyMatch(e.getValue()::startsWith))
                    byFinding
                            .computeIfAbsent(Map.entry(e.getKey(), e.getValue()), k -> new ArrayList<>())
                            .add(r);
            }
        }
        List<String> out = new ArrayList<>();
        byFinding.forEach((finding, rs) -> out.add("WARNING: rank" + (rs.size() > 1 ? "s " : " ")
                + String.join(", ", rs.stream().map(String::valueOf).toList()) + ": " + finding.getKey() + ": "
                + finding.getValue()));
        return out;
    }

    /** For run.json: one object per rank, with its rank. */
    List<Map<String, Object>> toJson() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rank", r);
            m.putAll(ranks.get(r));
            out.add(m);
        }
        return out;
    }
}
