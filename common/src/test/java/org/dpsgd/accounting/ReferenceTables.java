package org.dpsgd.accounting;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads the dp_accounting reference CSVs written by generate_reference.py. */
final class ReferenceTables {
    private ReferenceTables() {}

    /** One CSV row by column name. */
    record Row(Map<String, String> cells) {
        double d(String column) {
            String v = cells.get(column);
            if (v == null) throw new IllegalArgumentException("no column " + column + " in " + cells.keySet());
            return v.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
        }

        long l(String column) {
            return Long.parseLong(cells.get(column));
        }

        String s(String column) {
            return cells.get(column);
        }

        @Override
        public String toString() {
            return cells.toString();
        }
    }

    static List<Row> read(String name) {
        String path = "/accounting/" + name;
        try (InputStream in = ReferenceTables.class.getResourceAsStream(path)) {
            if (in == null)
                throw new IllegalStateException("missing test resource " + path + ": run generate_reference.py");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<String> header = Arrays.asList(r.readLine().split(","));
            List<Row> rows = new ArrayList<>();
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) continue;
                String[] cells = line.split(",");
                Map<String, String> m = new HashMap<>();
                for (int i = 0; i < header.size(); i++) m.put(header.get(i), cells[i]);
                rows.add(new Row(m));
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
