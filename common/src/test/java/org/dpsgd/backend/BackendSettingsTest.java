package org.dpsgd.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Validation of backend.settings against the selected backend's declared table. */
class BackendSettingsTest {
    /** A provider that only declares settings. */
    record Fake(String name, List<SettingSpec> settings) implements BackendProvider {
        @Override
        public int rank() {
            return 0;
        }

        @Override
        public Availability availability() {
            return Availability.yes("fake");
        }

        @Override
        public Backend open(BackendOptions options) {
            throw new UnsupportedOperationException();
        }
    }

    static final Fake CPU = new Fake(
            "cpu-ish",
            List.of(
                    SettingSpec.of("threads", SettingSpec.Type.POSITIVE_INTEGER, "", "threads"),
                    SettingSpec.choice("dtype", "float32", List.of("float32", "float64"), "type")));
    static final Fake ACCEL = new Fake(
            "accel",
            List.of(
                    SettingSpec.choice("precision", "fp32", List.of("fp32", "fp16"), "precision"),
                    SettingSpec.of("stochastic_rounding", SettingSpec.Type.BOOLEAN, "true", "rounding")));
    static final List<BackendProvider> ALL = List.of(CPU, ACCEL);

    @Test
    void ownAndCommonKeysWithGoodValuesPass() {
        BackendSettings.Check c = BackendSettings.check(
                CPU, ALL, Map.of("threads", "2", "dtype", "FLOAT64", "replicas", "1", "max_calls", "0"));
        assertEquals(List.of(), c.ignored());
        assertNull(c.warning());
    }

    @Test
    void aKeyNoBackendDeclaresIsRefusedNamingKeyBackendAndValidKeys() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> BackendSettings.check(CPU, ALL, Map.of("thread", "2")));
        assertEquals(
                "unknown key backend.settings.thread for backend cpu-ish; valid keys: dtype, max_calls,"
                        + " noise_prefetch, replicas, slot_invariance, threads",
                e.getMessage());
    }

    @Test
    void anIllTypedValueIsRefusedWithTheExpectedForm() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> BackendSettings.check(CPU, ALL, Map.of("dtype", "int8")));
        assertEquals(
                "backend.settings.dtype (backend cpu-ish) must be one of float32, float64, got 'int8'", e.getMessage());
        IllegalArgumentException common = assertThrows(
                IllegalArgumentException.class, () -> BackendSettings.check(ACCEL, ALL, Map.of("max_calls", "-1")));
        assertTrue(common.getMessage().startsWith("backend.settings.max_calls (backend accel) must be a whole number"));
        IllegalArgumentException prefetch = assertThrows(
                IllegalArgumentException.class,
                () -> BackendSettings.check(CPU, ALL, Map.of("noise_prefetch", "soon")));
        assertEquals(
                "backend.settings.noise_prefetch (backend cpu-ish) must be one of auto, off, on, idle, got 'soon'",
                prefetch.getMessage());
    }

    @Test
    void anotherBackendsKeysAreIgnoredLoudlyAndListed() {
        BackendSettings.Check c = BackendSettings.check(
                CPU, ALL, Map.of("precision", "fp16", "stochastic_rounding", "true", "threads", "1"));
        assertEquals(List.of("precision", "stochastic_rounding"), c.ignored());
        assertTrue(
                c.warning().contains("precision, stochastic_rounding are read only by the accel backend"), c.warning());
        assertTrue(c.warning().contains("cpu-ish backend IGNORES them"), c.warning());
        assertTrue(c.warning().contains("backend_settings_ignored"), c.warning());
        assertTrue(c.warning().contains("--backend accel"), c.warning());
    }

    @Test
    void theTableListsTheCommonKeysOnceThenTheBackendsOwn() {
        List<String> keys =
                BackendSettings.table(ACCEL).stream().map(SettingSpec::key).toList();
        assertEquals(
                List.of(
                        "replicas",
                        "max_calls",
                        "noise_prefetch",
                        "slot_invariance",
                        "precision",
                        "stochastic_rounding"),
                keys);
    }

    static Stream<Arguments> values() {
        return Stream.of(
                Arguments.of(SettingSpec.Type.INTEGER, "-3", true),
                Arguments.of(SettingSpec.Type.INTEGER, "1.5", false),
                Arguments.of(SettingSpec.Type.POSITIVE_INTEGER, " 4 ", true),
                Arguments.of(SettingSpec.Type.POSITIVE_INTEGER, "0", false),
                Arguments.of(SettingSpec.Type.NON_NEGATIVE_INTEGER, "0", true),
                Arguments.of(SettingSpec.Type.NON_NEGATIVE_INTEGER, "-1", false),
                Arguments.of(SettingSpec.Type.NUMBER, "0.6", true),
                Arguments.of(SettingSpec.Type.NUMBER, "NaN", false),
                Arguments.of(SettingSpec.Type.NUMBER, "lots", false),
                Arguments.of(SettingSpec.Type.BOOLEAN, "TRUE", true),
                Arguments.of(SettingSpec.Type.BOOLEAN, "yes", false),
                Arguments.of(SettingSpec.Type.TEXT, "/tmp/cache", true),
                Arguments.of(SettingSpec.Type.TEXT, "a\nb", false));
    }

    @ParameterizedTest
    @MethodSource("values")
    void eachTypeAcceptsItsFormAndRefusesOthers(SettingSpec.Type type, String value, boolean ok) {
        String problem = SettingSpec.of("k", type, "", "doc").problem(value);
        assertEquals(ok, problem == null, type + " '" + value + "': " + problem);
        if (!ok) assertTrue(problem.contains(type.description()), problem);
    }

    @Test
    void aChoiceNeedsAllowedValuesAndOnlyAChoiceHasThem() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new SettingSpec("k", SettingSpec.Type.CHOICE, "", List.of(), "doc"));
        assertThrows(
                IllegalArgumentException.class,
                () -> new SettingSpec("k", SettingSpec.Type.TEXT, "", List.of("a"), "doc"));
    }
}
