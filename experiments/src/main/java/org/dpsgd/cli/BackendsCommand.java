package org.dpsgd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.BackendProvider;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.SettingSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "backends",
        mixinStandardHelpOptions = true,
        description = "Lists every backend, whether it can run here, and why not when it cannot (--json: also each"
                + " backend's backend.settings keys).")
final class BackendsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "One JSON object on one line.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            Availability a = p.availability();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", p.name());
            row.put("rank", p.rank());
            row.put("available", a.available());
            row.put("reason", a.reason());
            row.put("settings", settingsTable(p));
            rows.add(row);
        }
        if (json) {
            CliOutput.out(spec).println(new ObjectMapper().writeValueAsString(Map.of("backends", rows)));
        } else {
            for (Map<String, Object> r : rows) {
                CliOutput.out(spec)
                        .printf(
                                "%-5s %-12s %s%n",
                                r.get("name"),
                                Boolean.TRUE.equals(r.get("available")) ? "available" : "unavailable",
                                r.get("reason"));
            }
            if (rows.isEmpty()) CliOutput.out(spec).println("no backends on the class path");
        }
        return 0;
    }

    /** The backend's backend.settings table (common keys first), as JSON-ready rows. */
    static List<Map<String, Object>> settingsTable(BackendProvider p) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (SettingSpec s : BackendSettings.table(p)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", s.key());
            m.put("type", s.type().name().toLowerCase(java.util.Locale.ROOT));
            m.put("default", s.defaultValue());
            if (!s.allowed().isEmpty()) m.put("allowed", s.allowed());
            m.put("doc", s.doc());
            out.add(m);
        }
        return out;
    }
}
