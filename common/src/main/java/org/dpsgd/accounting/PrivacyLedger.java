package org.dpsgd.accounting;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The ordered list of DP events a run composed. Consecutive identical events are merged into one
 * {@link DpEvent.SelfComposed}, so a 100k-step run at fixed (q, σ) is a single entry. Serialises
 * to JSON (the events keep their type tags) so a resumed run rebuilds its accountant by replaying.
 */
public final class PrivacyLedger {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<DpEvent> events = new ArrayList<>();

    /** The JSON form: {"events": [...]}. */
    record Snapshot(@JsonProperty("events") List<DpEvent> events) {}

    /**
     * Appends {@code event}, merging it into the last entry when both are repeats of the same unit event. Refuses
     * (IllegalArgumentException) a null event or one no accountant can reduce to Poisson-sampled Gaussians, so an
     * unaccountable event never enters a ledger.
     */
    public void append(DpEvent event) {
        if (event == null) throw new IllegalArgumentException("DP event must not be null");
        // Reject what no accountant can handle now, not when ε is first asked for.
        SampledGaussian.flatten(List.of(event));
        if (!events.isEmpty()) {
            DpEvent last = events.get(events.size() - 1);
            DpEvent unit = unitOf(event);
            long n = countOf(event);
            if (unit.equals(unitOf(last))) {
                events.set(events.size() - 1, new DpEvent.SelfComposed(unit, Math.addExact(countOf(last), n)));
                return;
            }
        }
        events.add(event);
    }

    /** A snapshot of the entries, oldest first; later appends do not change it. */
    public List<DpEvent> events() {
        return Collections.unmodifiableList(new ArrayList<>(events));
    }

    /** True when nothing has been charged yet. */
    public boolean isEmpty() {
        return events.isEmpty();
    }

    /** Composes every event, in order, into {@code accountant}. */
    public void replayInto(Accountant accountant) {
        for (DpEvent e : events) accountant.compose(e);
    }

    /** The ledger as {@code {"events": [...]}}, each event with its type tag; {@link #fromJson} reads it back. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(new Snapshot(events));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the privacy ledger: " + e.getMessage(), e);
        }
    }

    /**
     * Rebuilds a ledger written by {@link #toJson}, re-validating every event on the way in. Throws
     * IllegalArgumentException when the text is not JSON or has no "events" list.
     */
    public static PrivacyLedger fromJson(String json) {
        Snapshot snapshot;
        try {
            snapshot = JSON.readValue(json, Snapshot.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("privacy ledger is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (snapshot == null || snapshot.events() == null)
            throw new IllegalArgumentException("privacy ledger JSON has no \"events\" list");
        PrivacyLedger ledger = new PrivacyLedger();
        for (DpEvent e : snapshot.events()) ledger.append(e);
        return ledger;
    }

    private static DpEvent unitOf(DpEvent e) {
        return e instanceof DpEvent.SelfComposed s ? s.event() : e;
    }

    /** The number of steps in {@code events}: a SelfComposed event counts its repetitions, any other event one. */
    public static long stepCount(List<DpEvent> events) {
        long n = 0;
        for (DpEvent e : events) n += countOf(e);
        return n;
    }

    private static long countOf(DpEvent e) {
        return e instanceof DpEvent.SelfComposed s ? s.count() : 1;
    }
}
