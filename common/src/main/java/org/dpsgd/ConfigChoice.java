package org.dpsgd;

import java.util.ArrayList;
import java.util.List;

/**
 * A mode chosen by name in a config or on the command line (privacy.noise: secure, audit.kind: whitebox, ...),
 * implemented by enums. {@link #configName()} is the spelling users write, and what the enum's {@code toString}
 * returns, so that messages and files read as they did when these modes were strings.
 */
public interface ConfigChoice {
    /** The name written in configs, files and on the command line ("fast-insecure"). */
    String configName();

    /**
     * The constant of {@code type} whose {@link #configName()} is {@code value}, compared exactly.
     *
     * @param key what the value was given for, named in the error ("privacy.noise", "--accountant")
     * @throws IllegalArgumentException naming {@code key}, the bad value and the valid ones
     */
    static <E extends Enum<E> & ConfigChoice> E parse(Class<E> type, String key, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.configName().equals(value)) return e;
        }
        throw new IllegalArgumentException(key + " must be " + choices(type) + ", got '" + value + "'");
    }

    /** The valid names of {@code type}, quoted, for messages: "'rdp' or 'pld'", "'a', 'b' or 'c'". */
    static String choices(Class<?> type) {
        List<String> names = new ArrayList<>();
        for (Object e : type.getEnumConstants()) {
            names.add("'" + (e instanceof ConfigChoice c ? c.configName() : e.toString()) + "'");
        }
        if (names.size() == 1) return names.get(0);
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    }
}
