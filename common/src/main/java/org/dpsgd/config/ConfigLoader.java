package org.dpsgd.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.RecordComponent;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.dpsgd.ConfigChoice;

/**
 * Reads {@link ExperimentConfig} from YAML or JSON (JSON is read by the JSON parser when the file
 * ends in .json, YAML otherwise). Unknown keys, wrong types and invalid values all fail with an
 * IllegalArgumentException whose message names the source, the key and the fix. Validation
 * itself lives in the records' constructors; this class only makes their errors readable.
 */
public final class ConfigLoader {
    private static final ObjectMapper YAML = configure(new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build()));
    private static final ObjectMapper JSON = configure(new ObjectMapper());
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9]+");

    private ConfigLoader() {}

    private static ObjectMapper configure(ObjectMapper m) {
        return m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT) // batch_size: 12.5 must fail, not become 12
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS) // noise: 1 must fail, not pick a mode
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    /**
     * Loads and validates a YAML or JSON config file (JSON when the name ends in .json); bad values throw {@link
     * IllegalArgumentException}.
     */
    public static ExperimentConfig load(Path file) {
        return load(file, Map.of());
    }

    /**
     * How messages name a config read from {@code source} with {@code overrides}: "{@code f.yaml}" or "{@code f.yaml
     * with overrides {k=v}}", the prefix of every error about it.
     */
    public static String source(String source, Map<String, String> overrides) {
        return overrides.isEmpty() ? source : source + " with overrides " + new TreeMap<>(overrides);
    }

    /** Loads {@code file} and applies dotted-key overrides to the file's own keys before validation. */
    public static ExperimentConfig load(Path file, Map<String, String> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("config file " + file + " does not exist");
        } catch (CharacterCodingException e) {
            throw notText(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read config file " + file + ": " + e.getMessage(), e);
        }
        if (text.indexOf('\0') >= 0) throw notText(file);
        boolean json = file.getFileName().toString().toLowerCase().endsWith(".json");
        return parse(text, file.toString(), json, overrides);
    }

    /** A binary file (not UTF-8, or holding NUL bytes): the decoder's "Input length = 1" would say nothing useful. */
    private static IllegalArgumentException notText(Path file) {
        return new IllegalArgumentException(
                "config file " + file + " is not a YAML/JSON text file (it holds binary data or is not UTF-8); "
                        + "give the path of a .yaml or .json config");
    }

    /** Parses YAML (or JSON, which YAML mostly accepts) text; {@code source} names it in errors. */
    public static ExperimentConfig parse(String text, String source) {
        return parse(text, source, false, Map.of());
    }

    /** Parses and validates JSON text (unknown and duplicate keys rejected); {@code source} names it in errors. */
    public static ExperimentConfig parseJson(String text, String source) {
        return parse(text, source, true, Map.of());
    }

    private static ExperimentConfig parse(String text, String source, boolean json, Map<String, String> overrides) {
        ObjectMapper m = json ? JSON : YAML;
        JsonNode tree;
        try {
            tree = m.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    source + ": not valid " + (json ? "JSON" : "YAML") + ": " + e.getOriginalMessage() + location(e),
                    e);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull())
            throw new IllegalArgumentException(source + ": the config is empty");
        if (!tree.isObject())
            throw new IllegalArgumentException(
                    source + ": the config must be a mapping of sections (model:, data:, ...)");
        ObjectNode obj = (ObjectNode) tree;
        if (!overrides.isEmpty()) setAll(obj, overrides);
        return fromTree(obj, source(source, overrides));
    }

    /**
     * Applies dotted-key overrides ({@code privacy.noise_multiplier=1.5}) to a resolved config and
     * validates the result exactly like a file. Values are read as YAML scalars (numbers, true/false,
     * null, strings) or flow lists ([a, b]).
     */
    public static ExperimentConfig applyOverrides(ExperimentConfig config, Map<String, String> overrides) {
        if (overrides.isEmpty()) return config;
        ObjectNode tree = YAML.valueToTree(config);
        setAll(tree, overrides);
        return fromTree(tree, "overrides " + new TreeMap<>(overrides));
    }

    /** Parses "key=value" strings (as given on a command line) into an override map. */
    public static Map<String, String> parseOverrides(List<String> assignments) {
        Map<String, String> out = new TreeMap<>();
        for (String a : assignments) {
            int eq = a.indexOf('=');
            if (eq <= 0)
                throw new IllegalArgumentException(
                        "override '" + a + "' must look like section.key=value (e.g. privacy.noise_multiplier=1.5)");
            out.put(a.substring(0, eq).trim(), a.substring(eq + 1).trim());
        }
        return out;
    }

    /** The fully resolved config as YAML (every default filled in), for provenance; loads back to an equal config. */
    public static String toYaml(ExperimentConfig config) {
        try {
            return YAML.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the config as YAML: " + e.getOriginalMessage(), e);
        }
    }

    private static void setAll(ObjectNode root, Map<String, String> overrides) {
        for (var e : new TreeMap<>(overrides).entrySet()) set(root, e.getKey(), e.getValue());
    }

    private static void set(ObjectNode root, String dotted, String value) {
        String[] parts = dotted.split("\\.", -1);
        for (String p : parts) {
            if (p.isBlank())
                throw new IllegalArgumentException(
                        "override key '" + dotted + "' has an empty part; use section.key=value");
        }
        ObjectNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || child.isNull()) {
                child = node.putObject(parts[i]);
            } else if (!child.isObject()) {
                throw new IllegalArgumentException("override '" + dotted + "': '"
                        + String.join(".", java.util.Arrays.copyOf(parts, i + 1)) + "' is a value, not a section");
            }
            node = (ObjectNode) child;
        }
        node.set(parts[parts.length - 1], scalar(value));
    }

    private static JsonNode scalar(String v) {
        String t = v.trim();
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (t.equals("null") || t.equals("~") || t.isEmpty()) return NullNode.getInstance();
        if (t.equals("true") || t.equals("false")) return f.booleanNode(Boolean.parseBoolean(t));
        if (t.startsWith("[") && t.endsWith("]")) {
            // A YAML flow list, e.g. model.freeze=[conv1, bn1, layer1].
            try {
                return YAML.readTree(t);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(
                        "override value '" + t + "' is not a valid list (write [a, b, c])", e);
            }
        }
        if (INTEGER.matcher(t).matches()) {
            try {
                return f.numberNode(Long.parseLong(t));
            } catch (NumberFormatException e) {
                return f.textNode(t);
            }
        }
        try {
            return f.numberNode(Double.parseDouble(t));
        } catch (NumberFormatException e) {
            return f.textNode(t);
        }
    }

    private static ExperimentConfig fromTree(ObjectNode tree, String source) {
        checkKeys(tree, ExperimentConfig.class, "", source);
        return bind(tree, source);
    }

    private static ExperimentConfig bind(ObjectNode tree, String source) {
        try {
            return YAML.treeToValue(tree, ExperimentConfig.class);
        } catch (UnrecognizedPropertyException e) {
            List<String> known = new ArrayList<>();
            if (e.getKnownPropertyIds() != null) e.getKnownPropertyIds().forEach(k -> known.add(String.valueOf(k)));
            known.sort(null);
            String section = section(e.getPath());
            throw new IllegalArgumentException(
                    source + ": unknown key '" + e.getPropertyName() + "' in "
                            + (section.isEmpty() ? "the top level" : "section '" + section + "'") + "; known keys: "
                            + String.join(", ", known),
                    e);
        } catch (ValueInstantiationException e) {
            Throwable c = e.getCause();
            String msg = c instanceof IllegalArgumentException ? c.getMessage() : String.valueOf(c);
            throw new IllegalArgumentException(source + ": " + msg, c != null ? c : e);
        } catch (InvalidFormatException e) {
            throw new IllegalArgumentException(
                    source + ": " + key(e.getPath()) + " must be " + describe(e.getTargetType()) + ", got '"
                            + e.getValue() + "'",
                    e);
        } catch (MismatchedInputException e) {
            throw new IllegalArgumentException(
                    source + ": " + key(e.getPath()) + " must be " + describe(e.getTargetType()), e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": " + e.getOriginalMessage(), e);
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof JsonMappingException jm)
                throw new IllegalArgumentException(source + ": " + jm.getOriginalMessage(), e);
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * Rejects unknown keys before binding. Jackson binds records through their constructors and
     * reports unknown keys only afterwards, so a typo ("epoch:") would otherwise surface as the
     * constructor's complaint about the missing key instead of naming the typo.
     */
    private static void checkKeys(JsonNode node, Class<?> type, String section, String source) {
        if (!type.isRecord() || node == null || !node.isObject()) return;
        Map<String, Class<?>> known = new TreeMap<>();
        for (RecordComponent rc : type.getRecordComponents()) {
            JsonProperty jp = rc.getAccessor().getAnnotation(JsonProperty.class);
            known.put(jp != null && !jp.value().isEmpty() ? jp.value() : rc.getName(), rc.getType());
        }
        var names = node.fieldNames();
        while (names.hasNext()) {
            String key = names.next();
            if (!known.containsKey(key)) {
                throw new IllegalArgumentException(source + ": unknown key '" + key + "' in "
                        + (section.isEmpty() ? "the top level" : "section '" + section + "'") + "; known keys: "
                        + String.join(", ", known.keySet()));
            }
            checkKeys(node.get(key), known.get(key), section.isEmpty() ? key : section + "." + key, source);
        }
    }

    private static String section(List<JsonMappingException.Reference> path) {
        if (path.size() <= 1) return "";
        return key(path.subList(0, path.size() - 1));
    }

    private static String key(List<JsonMappingException.Reference> path) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference r : path) {
            if (r.getFieldName() != null) {
                if (sb.length() > 0) sb.append('.');
                sb.append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                sb.append('[').append(r.getIndex()).append(']');
            }
        }
        return sb.length() == 0 ? "the config" : sb.toString();
    }

    private static String describe(Class<?> type) {
        if (type == null) return "a different type";
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) return "an integer";
        if (type == Double.class || type == double.class || type == Float.class) return "a number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (type.isEnum()) return ConfigChoice.choices(type);
        if (Map.class.isAssignableFrom(type)) return "a mapping of key: value";
        if (List.class.isAssignableFrom(type)) return "a list";
        return "a section (a mapping of key: value)";
    }

    private static String location(JsonProcessingException e) {
        return e.getLocation() == null
                ? ""
                : " (line " + e.getLocation().getLineNr() + ", column "
                        + e.getLocation().getColumnNr() + ")";
    }
}
