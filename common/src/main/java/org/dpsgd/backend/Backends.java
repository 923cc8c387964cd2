package org.dpsgd.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.dpsgd.UserError;

/** The backend registry: discovery through ServiceLoader and selection ("auto" or a name). */
public final class Backends {
    private Backends() {}

    /** Every provider on the class path, highest rank first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) out.add(p);
        out.sort(Comparator.comparingInt(BackendProvider::rank).reversed().thenComparing(BackendProvider::name));
        return out;
    }

    /**
     * The planner of the backend named {@code name}, whether or not that backend can run here (planning needs no
     * device).
     *
     * @throws UserError when no such backend is on the class path, or it has no planner
     */
    public static DevicePlanner planner(String name) {
        for (BackendProvider p : providers()) {
            if (p.name().equals(name))
                return p.planner()
                        .orElseThrow(() -> new UserError("the " + name + " backend has no planner (nothing to plan)"));
        }
        throw new UserError("the " + name + " backend is not on the class path (expected dpsgd-" + name
                + "-backend); it is needed to plan for it");
    }

    /**
     * Picks a provider. "auto" takes the highest-ranked available one and reports each skipped
     * provider (with its reason) to {@code notice}; a named provider that is unavailable fails with
     * its reason rather than silently running somewhere else.
     */
    public static BackendProvider select(String name, Consumer<String> notice) {
        List<BackendProvider> all = providers();
        if (all.isEmpty())
            throw new UserError("no backend on the class path (expected dpsgd-gpu-backend and/or dpsgd-ipu-backend)");
        if (name == null || name.equals("auto")) {
            for (BackendProvider p : all) {
                Availability a = p.availability();
                if (a.available()) return p;
                notice.accept(
                        "backend '" + p.name() + "' unavailable (" + a.reason() + "); falling back to the next one");
            }
            StringBuilder sb = new StringBuilder("no backend is available:");
            for (BackendProvider p : all)
                sb.append("\n  ")
                        .append(p.name())
                        .append(": ")
                        .append(p.availability().reason());
            throw new UserError(sb.toString());
        }
        for (BackendProvider p : all) {
            if (p.name().equals(name)) {
                Availability a = p.availability();
                if (!a.available()) throw new UserError("backend '" + name + "' is unavailable: " + a.reason());
                return p;
            }
        }
        List<String> names = all.stream().map(BackendProvider::name).toList();
        throw new IllegalArgumentException("unknown backend '" + name + "'; known: auto, " + String.join(", ", names));
    }
}
