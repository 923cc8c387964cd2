package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerJournalTest {
    @TempDir
    Path dir;

    private static final DpEvent STEP = DpEvent.dpSgdStep(0.01, 1.1);
    private static final DpEvent OTHER = DpEvent.dpSgdStep(0.02, 0.9);

    @Test
    void appendsSurviveReopeningAndKeepTheirOrder() {
        Path f = dir.resolve("ledger.jsonl");
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(STEP);
            j.record(STEP);
        }
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(OTHER);
        }
        LedgerJournal.Contents c = LedgerJournal.read(f);
        assertEquals(List.of(STEP, STEP, OTHER), c.events());
        assertEquals(3, c.steps());
        assertFalse(c.tornTail());
    }

    @Test
    void aTornLastLineIsAnUnacknowledgedEventAndIsDroppedOnOpen() throws IOException {
        Path f = dir.resolve("ledger.jsonl");
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(STEP);
            j.record(STEP);
        }
        String all = Files.readString(f);
        Files.writeString(f, all.substring(0, all.length() - 20)); // the crash hit the second line's write
        LedgerJournal.Contents c = LedgerJournal.read(f);
        assertTrue(c.tornTail());
        assertEquals(1, c.steps());
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(OTHER);
        }
        assertEquals(List.of(STEP, OTHER), LedgerJournal.read(f).events());
    }

    @Test
    void aWholeLineCutOffBeforeItsNewlineIsTornAndAppendsStayReadable() throws IOException {
        Path f = dir.resolve("ledger.jsonl");
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(STEP);
            j.record(STEP);
        }
        String all = Files.readString(f);
        Files.writeString(f, all.substring(0, all.length() - 1)); // the crash hit just before the second line's '\n'
        assertTrue(LedgerJournal.read(f).tornTail());
        assertEquals(1, LedgerJournal.read(f).steps());
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(OTHER);
        }
        assertEquals(List.of(STEP, OTHER), LedgerJournal.read(f).events());
    }

    @Test
    void anEditedEventFailsItsChecksum() throws IOException {
        Path f = dir.resolve("ledger.jsonl");
        try (LedgerJournal j = LedgerJournal.open(f)) {
            for (int i = 0; i < 3; i++) j.record(STEP);
        }
        // Editing σ upwards would lower ε: the chain must catch it.
        Files.writeString(f, Files.readString(f).replaceFirst("1\\.1", "9.9"), StandardCharsets.UTF_8);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LedgerJournal.read(f));
        assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void aRemovedOrReorderedLineBreaksTheSequence() throws IOException {
        Path f = dir.resolve("ledger.jsonl");
        try (LedgerJournal j = LedgerJournal.open(f)) {
            j.record(STEP);
            j.record(OTHER);
            j.record(STEP);
        }
        List<String> lines = Files.readAllLines(f);
        Files.write(f, List.of(lines.get(0), lines.get(2)));
        assertTrue(assertThrows(IllegalStateException.class, () -> LedgerJournal.read(f))
                .getMessage()
                .contains("out of sequence"));
        Files.write(f, List.of(lines.get(1), lines.get(0), lines.get(2)));
        assertThrows(IllegalStateException.class, () -> LedgerJournal.read(f));
        Files.write(f, List.of("not json", lines.get(0)));
        assertThrows(IllegalStateException.class, () -> LedgerJournal.read(f));
    }

    @Test
    void aMissingFileIsAnEmptyLedger() {
        assertEquals(0, LedgerJournal.read(dir.resolve("absent")).steps());
    }
}
