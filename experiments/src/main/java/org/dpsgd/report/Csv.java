package org.dpsgd.report;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * sweep.csv through Apache Commons CSV (RFC 4180: quoted fields, doubled quotes, embedded line
 * breaks); this class only fixes the format in one place and turns its IOExceptions into messages
 * that name the file.
 */
public final class Csv {
    private static final CSVFormat FORMAT = CSVFormat.RFC4180
            .builder()
            .setRecordSeparator("\n")
            .setIgnoreEmptyLines(true)
            .build();

    private Csv() {}

    /** One record, without its line break, for appending to a file row by row. */
    public static String line(List<String> cells) {
        return FORMAT.format(cells.stream().map(c -> c == null ? "" : c).toArray());
    }

    /** Every record of {@code file}, the header first. */
    public static List<List<String>> read(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser p = FORMAT.parse(in)) {
            List<List<String>> out = new ArrayList<>();
            for (CSVRecord r : p) out.add(r.toList());
            return out;
        } catch (IOException | UncheckedIOException e) {
            throw new IllegalArgumentException("cannot read " + file + " as CSV: " + e.getMessage(), e);
        }
    }
}
