package org.dpsgd.backend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.dpsgd.config.ExperimentConfig;

/**
 * Validates a config's {@code backend.settings} against the selected backend's declared table
 * ({@link BackendProvider#settings()}) plus the keys every backend shares ({@link #COMMON}).
 *
 * <p>Policy (docs/experiments.md, "Backend settings"): a key no backend on the class path declares, or a value that
 * does not parse as its declared type, is refused with one line naming the key, the backend and the valid keys. A key
 * that only <em>another</em> backend declares (an IPU config's {@code precision: fp16} run on DJL) is not refused, since
 * the shipped configs are written for one machine and run at reduced scale on another; it is reported loudly and the
 * run records it ({@code backend_settings_ignored} in run.json), so it is never silently ignored.
 */
public final class BackendSettings {
    private BackendSettings() {}

    /** Keys read by common code for every backend (the trainer's device-call layout). */
    public static final List<SettingSpec> COMMON = List.of(
            SettingSpec.of(
                    "replicas",
                    SettingSpec.Type.POSITIVE_INTEGER,
                    "1",
                    "data-parallel replicas per device call (IPU: a power of two)"),
            SettingSpec.of(
                    "max_calls",
                    SettingSpec.Type.NON_NEGATIVE_INTEGER,
                    "0",
                    "device calls per step: 0 = as many as each sampled batch needs, N = always N (fixed-shape"
                            + " programs)"),
            SettingSpec.choice(
                    org.dpsgd.noise.NoisePrefetch.SETTING,
                    "auto",
                    org.dpsgd.noise.NoisePrefetch.VALUES,
                    "secure noise for the next step drawn ahead: auto = on where the device computes off the host,"
                            + " idle on a CPU backend where Linux allows it (else off); idle = ahead on idle-priority"
                            + " threads, the step filling what they have not started; off on a host busy with other"
                            + " work"),
            SettingSpec.choice(
                    org.dpsgd.train.SlotInvarianceCheck.SETTING,
                    "require",
                    List.of("require", "record"),
                    "before a private run's first step, check that an example's norm keeps its bits in another slot"
                            + " (the clip bound's premise; else DPSGD_SLOT_INVARIANCE): require = refuse where one"
                            + " moves, record = train anyway and record it (weaker: docs/core.md Float margin 2)"));

    /**
     * The outcome of a check that passed.
     *
     * @param ignored keys the selected backend does not read because only other backends declare them, sorted
     * @param warning the loud one-line notice about {@code ignored}, or null when nothing is ignored
     */
    public record Check(List<String> ignored, String warning) {
        /** Copies the list. */
        public Check {
            ignored = List.copyOf(ignored);
        }
    }

    /** The full table of {@code provider}: the common keys, then its own. */
    public static List<SettingSpec> table(BackendProvider provider) {
        Map<String, SettingSpec> out = new LinkedHashMap<>();
        for (SettingSpec s : COMMON) out.put(s.key(), s);
        for (SettingSpec s : provider.settings()) out.put(s.key(), s);
        return List.copyOf(out.values());
    }

    /**
     * Checks {@code settings} for {@code selected}, knowing every backend on the class path ({@code all}).
     *
     * @throws IllegalArgumentException for a key no backend declares or a value of the wrong type
     */
    public static Check check(BackendProvider selected, List<BackendProvider> all, Map<String, String> settings) {
        Map<String, SettingSpec> mine = new LinkedHashMap<>();
        for (SettingSpec s : table(selected)) mine.put(s.key(), s);
        String valid = String.join(", ", new TreeSet<>(mine.keySet()));
        List<String> ignored = new ArrayList<>();
        Map<String, TreeSet<String>> owners = new LinkedHashMap<>();
        for (String key : new TreeSet<>(settings.keySet())) {
            SettingSpec spec = mine.get(key);
            if (spec != null) {
                String problem = spec.problem(settings.get(key));
                if (problem != null)
                    throw new IllegalArgumentException(
                            "backend.settings." + key + " (backend " + selected.name() + ") " + problem);
                continue;
            }
            TreeSet<String> readers = new TreeSet<>();
            for (BackendProvider p : all) {
                if (p.name().equals(selected.name())) continue;
                if (p.settings().stream().anyMatch(s -> s.key().equals(key))) readers.add(p.name());
            }
            if (readers.isEmpty())
                throw new IllegalArgumentException("unknown key backend.settings." + key + " for backend "
                        + selected.name() + "; valid keys: " + valid);
            ignored.add(key);
            owners.put(key, readers);
        }
        if (ignored.isEmpty()) return new Check(List.of(), null);
        TreeSet<String> others = new TreeSet<>();
        owners.values().forEach(others::addAll);
        String warning = "backend.settings " + String.join(", ", ignored) + " "
                + (ignored.size() == 1 ? "is" : "are") + " read only by the " + String.join("/", others)
                + " backend; the " + selected.name() + " backend IGNORES " + (ignored.size() == 1 ? "it" : "them")
                + " (recorded in run.json as backend_settings_ignored). To use "
                + (ignored.size() == 1 ? "it" : "them") + " run with --backend " + others.first()
                + "; to silence this, remove " + (ignored.size() == 1 ? "it" : "them") + " from the config";
        return new Check(ignored, warning);
    }

    /**
     * Checks {@code backend.settings} against the table of the backend the config fixes ({@code backend.name}, or
     * {@code backendOverride} when that is given, as by {@code --backend}), so that a bad key or value fails when the
     * config is read rather than when training starts (the commands call it right after loading; it lives here, not in
     * {@code ConfigLoader}, so that the config package does not depend on the backend SPI). Nothing is checked when the backend is {@code auto} (which keys
     * are valid depends on the machine) or its provider is not on the class path ({@code Backends.select} refuses that
     * later). A key that only another backend reads passes here; the run warns about it and records it.
     *
     * @param source how messages name the config (see {@code ConfigLoader.source}), their prefix
     * @throws IllegalArgumentException as {@link #check}: the key, the backend and the valid keys
     */
    public static void checkConfig(ExperimentConfig config, String backendOverride, String source) {
        try {
            checkConfig(config, backendOverride);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * As {@link #checkConfig(ExperimentConfig, String, String)}, with messages that do not name the config's source.
     *
     * @throws IllegalArgumentException naming the key, the backend and the valid keys
     */
    public static void checkConfig(ExperimentConfig config, String backendOverride) {
        String name =
                backendOverride != null ? backendOverride : config.backend().name();
        if (name == null || name.equals("auto")) return;
        List<BackendProvider> all = Backends.providers();
        for (BackendProvider p : all) {
            if (p.name().equals(name)) check(p, all, config.backend().settings());
        }
    }
}
