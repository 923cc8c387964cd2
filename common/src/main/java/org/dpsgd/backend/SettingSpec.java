package org.dpsgd.backend;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One key of a config's {@code backend.settings}, declared by the backend that reads it (PopLibs style: key, type,
 * default, allowed values, one-line doc). Tables of these are what {@link BackendSettings} validates a config against
 * and what {@code dpsgd backends --json} lists. The type check here is the parse; range rules that depend on other keys
 * (e.g. the IPU's loss scale with fp32) stay with the backend.
 *
 * @param key the key under {@code backend.settings}
 * @param type how the string value must parse
 * @param defaultValue the value in force when the config does not set the key, as text ("" = none / the engine's own)
 * @param allowed for {@link Type#CHOICE}: the accepted values (compared case-insensitively); empty otherwise
 * @param doc one line saying what the key does
 */
public record SettingSpec(String key, Type type, String defaultValue, List<String> allowed, String doc) {
    /** How a setting's string value must parse. */
    public enum Type {
        /** A whole number (64-bit). */
        INTEGER("a whole number"),
        /** A whole number above zero. */
        POSITIVE_INTEGER("a whole number > 0"),
        /** A whole number zero or above. */
        NON_NEGATIVE_INTEGER("a whole number >= 0"),
        /** A decimal number. */
        NUMBER("a number"),
        /** true or false. */
        BOOLEAN("true or false"),
        /** One of {@link SettingSpec#allowed()}. */
        CHOICE("one of the allowed values"),
        /** Any one-line text (a path, a name). */
        TEXT("one line of text");

        private final String description;

        Type(String description) {
            this.description = description;
        }

        /** What a value of this type looks like, for error messages ("a whole number > 0"). */
        public String description() {
            return description;
        }
    }

    /** Validates the declaration itself (a CHOICE needs allowed values, nothing else has any). */
    public SettingSpec {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        defaultValue = defaultValue == null ? "" : defaultValue;
        allowed = allowed == null ? List.of() : List.copyOf(allowed);
        doc = doc == null ? "" : doc;
        if ((type == Type.CHOICE) == allowed.isEmpty())
            throw new IllegalArgumentException("setting " + key + ": allowed values go with type CHOICE, and only it");
    }

    /** A non-choice setting. */
    public static SettingSpec of(String key, Type type, String defaultValue, String doc) {
        return new SettingSpec(key, type, defaultValue, List.of(), doc);
    }

    /** A setting that takes one of {@code allowed}. */
    public static SettingSpec choice(String key, String defaultValue, List<String> allowed, String doc) {
        return new SettingSpec(key, Type.CHOICE, defaultValue, allowed, doc);
    }

    /**
     * Why {@code value} is not acceptable for this key, or null when it is. The reason reads after the key:
     * "must be a whole number > 0, got 'x'".
     */
    public String problem(String value) {
        String v = value == null ? "" : value.trim();
        boolean ok = switch (type) {
            case INTEGER -> parsesLong(v, Long.MIN_VALUE);
            case POSITIVE_INTEGER -> parsesLong(v, 1);
            case NON_NEGATIVE_INTEGER -> parsesLong(v, 0);
            case NUMBER -> parsesDouble(v);
            case BOOLEAN -> v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false");
            case CHOICE -> allowed.stream().anyMatch(a -> a.equalsIgnoreCase(v));
            case TEXT -> !v.contains("\n");
        };
        if (ok) return null;
        String want = type == Type.CHOICE ? "one of " + String.join(", ", allowed) : type.description();
        return "must be " + want + ", got '" + value + "'";
    }

    private static boolean parsesLong(String v, long min) {
        try {
            return Long.parseLong(v) >= min;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static boolean parsesDouble(String v) {
        try {
            return Double.isFinite(Double.parseDouble(v));
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Lower-case key-sorted rendering for listings: {@code threads (a whole number > 0, default ...): doc}. */
    @Override
    public String toString() {
        String t = type == Type.CHOICE ? String.join("|", allowed) : type.name().toLowerCase(Locale.ROOT);
        return key + " (" + t + (defaultValue.isEmpty() ? "" : ", default " + defaultValue) + "): " + doc;
    }
}
