package org.dpsgd.accounting;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.dpsgd.UserError;

/**
 * The write-ahead privacy ledger of a run folder: an append-only file with one JSON line per
 * charged event, each line fsynced before {@link #record} returns and each carrying the SHA-256 of
 * its own content chained to the previous line's, so a line cannot be dropped or edited unnoticed:
 * <pre>{"seq":1,"event":{...},"prev":"…","sha256":"…"}</pre>
 * Reading tolerates exactly one torn last line (the crash happened while it was written: that
 * event was never acknowledged, so nothing computed from it was released); any other damage is an
 * error, because a shortened ledger would understate ε.
 */
public final class LedgerJournal implements LedgerSink, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GENESIS = "0".repeat(64);

    private final Path file;
    private final FileChannel channel;
    private long seq;
    private String lastHash;

    /** One journal line. */
    record Line(
            @JsonProperty("seq") long seq,
            @JsonProperty("event") DpEvent event,
            @JsonProperty("prev") String prev,
            @JsonProperty("sha256") String sha256) {}

    private LedgerJournal(Path file, FileChannel channel, long seq, String lastHash) {
        this.file = file;
        this.channel = channel;
        this.seq = seq;
        this.lastHash = lastHash;
    }

    /** What a journal file holds. */
    public record Contents(List<DpEvent> events, boolean tornTail) {
        /** The number of DP-SGD steps charged (SelfComposed counts expanded). */
        public long steps() {
            return PrivacyLedger.stepCount(events);
        }
    }

    /** Opens {@code file} for appending, creating it if absent; existing lines are verified first. */
    public static LedgerJournal open(Path file) {
        Scan c = scan(file);
        try {
            if (c.tornTail()) dropTornTail(file);
            FileChannel ch = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            if (c.events().isEmpty()) ch.force(true);
            return new LedgerJournal(file, ch, c.events().size(), c.lastHash());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the privacy ledger " + file + ": " + e.getMessage(), e);
        }
    }

    /** The journal file this writes to. */
    public Path file() {
        return file;
    }

    @Override
    public synchronized void record(DpEvent event) {
        if (event == null) throw new IllegalArgumentException("DP event must not be null");
        long next = seq + 1;
        String hash = hash(next, event, lastHash);
        try {
            byte[] line = (JSON.writeValueAsString(new Line(next, event, lastHash, hash)) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) channel.write(b);
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot append to the privacy ledger " + file + " (the step was not taken): " + e.getMessage(), e);
        }
        seq = next;
        lastHash = hash;
    }

    /** Every event in {@code file} (empty when the file does not exist), verified line by line. */
    public static Contents read(Path file) {
        Scan c = scan(file);
        return new Contents(c.events(), c.tornTail());
    }

    /** The verified events, whether a torn last line was found, and the hash the next line chains to. */
    private record Scan(List<DpEvent> events, boolean tornTail, String lastHash) {}

    private static Scan scan(Path file) {
        if (!Files.exists(file)) return new Scan(List.of(), false, GENESIS);
        List<String> raw;
        try {
            raw = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the privacy ledger " + file + ": " + e.getMessage(), e);
        }
        boolean endsWithNewline = endsWithNewline(file);
        List<DpEvent> events = new ArrayList<>();
        String prev = GENESIS;
        for (int i = 0; i < raw.size(); i++) {
            boolean last = i == raw.size() - 1;
            Line line;
            try {
                line = JSON.readValue(raw.get(i), Line.class);
            } catch (IOException e) {
                if (last && !endsWithNewline) return new Scan(events, true, prev);
                throw corrupt(file, i, "is not a ledger line");
            }
            if (line == null || line.event() == null || line.seq() != i + 1 || !prev.equals(line.prev())) {
                throw corrupt(file, i, "is out of sequence (a line was removed, reordered or edited)");
            }
            if (!hash(line.seq(), line.event(), line.prev()).equals(line.sha256())) {
                if (last && !endsWithNewline) return new Scan(events, true, prev);
                throw corrupt(file, i, "fails its checksum");
            }
            // A whole line without its newline was cut off just before it: record() never returned, so it is torn too.
            if (last && !endsWithNewline) return new Scan(events, true, prev);
            events.add(line.event());
            prev = line.sha256();
        }
        return new Scan(events, false, prev);
    }

    private static boolean endsWithNewline(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() == 0) return true;
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, ch.size() - 1);
            return b.get(0) == '\n';
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the privacy ledger " + file + ": " + e.getMessage(), e);
        }
    }

    /** Cuts the unacknowledged torn line so appends start on a fresh line. */
    private static void dropTornTail(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int end = all.length;
        while (end > 0 && all[end - 1] != '\n') end--;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(end);
            ch.force(true);
        }
    }

    private static UserError corrupt(Path file, int index, String what) {
        return new UserError("privacy ledger " + file + " line " + (index + 1) + " " + what
                + "; the run's ε cannot be trusted: restore the file from a backup or start the run again");
    }

    private static String hash(long seq, DpEvent event, String prev) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update((seq + "|" + prev + "|" + JSON.writeValueAsString(event)).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException("cannot hash a ledger line: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the privacy ledger " + file + ": " + e.getMessage(), e);
        }
    }
}
