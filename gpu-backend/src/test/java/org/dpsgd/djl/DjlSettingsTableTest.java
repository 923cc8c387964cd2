package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.dpsgd.backend.SettingSpec;
import org.junit.jupiter.api.Test;

/** The DJL settings table agrees with the code that reads the settings. */
class DjlSettingsTableTest {
    private static SettingSpec spec(String key) {
        return DjlBackendProvider.SETTINGS.stream()
                .filter(s -> s.key().equals(key))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void theDeclaredKeysAreTheOnesTheBackendReads() {
        assertEquals(
                List.of(
                        "threads",
                        "interop_threads",
                        "omp_wait_policy",
                        "malloc_retain",
                        "parallel_taps",
                        "graph_cuts",
                        "precision",
                        "loss_scale",
                        "dtype",
                        "seed"),
                DjlBackendProvider.SETTINGS.stream().map(SettingSpec::key).toList());
    }

    @Test
    void everyDtypeTheTableAllowsIsOneThatPrecisionParsesAndNoOther() {
        for (String v : spec("dtype").allowed()) assertNotNull(Precision.from(Map.of("dtype", v), Map.of()), v);
        assertNotNull(spec("dtype").problem("int8"));
        assertThrows(IllegalArgumentException.class, () -> Precision.from(Map.of("dtype", "int8"), Map.of()));
    }

    @Test
    void everyPrecisionTheTableAllowsIsOneThatPrecisionParsesAndNoOther() {
        for (String v : spec("precision").allowed()) {
            Precision p = Precision.from(Map.of("precision", v), Map.of());
            assertEquals(v, p.key);
        }
        assertEquals(
                List.of(Precision.values()).stream().map(p -> p.key).toList(),
                spec("precision").allowed());
        assertNotNull(spec("precision").problem("int8"));
        assertThrows(IllegalArgumentException.class, () -> Precision.from(Map.of("precision", "int8"), Map.of()));
        assertNull(spec("loss_scale").problem("128"));
        assertNull(spec("loss_scale").problem("0"));
        assertNotNull(spec("loss_scale").problem("-1"));
    }

    @Test
    void precisionAndItsOlderNameDtypeCannotDisagree() {
        assertEquals(Precision.FLOAT64, Precision.from(Map.of("precision", "fp64", "dtype", "float64"), Map.of()));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Precision.from(Map.of("precision", "bf16", "dtype", "float32"), Map.of()));
        assertTrue(e.getMessage().contains("disagree"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Precision.from(Map.of("dtype", "fp16"), Map.of()));
        // model settings win over backend settings, whichever key each uses
        assertEquals(Precision.FLOAT16, Precision.from(Map.of("precision", "fp16"), Map.of("dtype", "float64")));
        assertEquals(Precision.FLOAT64, Precision.from(Map.of("dtype", "float64"), Map.of("precision", "bf16")));
        assertEquals(Precision.BFLOAT16, Precision.from(Map.of(), Map.of("precision", "bf16")));
    }

    @Test
    void everyWaitPolicyTheTableAllowsIsOneDjlThreadsAccepts() {
        for (String v : spec("omp_wait_policy").allowed()) assertEquals(v, DjlThreads.policyToApply(v, null));
        assertNotNull(spec("omp_wait_policy").problem("SPIN"));
        assertThrows(IllegalArgumentException.class, () -> DjlThreads.policyToApply("SPIN", null));
    }

    @Test
    void theDeclaredDefaultsAreValid() {
        for (SettingSpec s : DjlBackendProvider.SETTINGS)
            if (!s.defaultValue().isEmpty()) assertNull(s.problem(s.defaultValue()), s.key());
        assertEquals(
                Precision.FLOAT32, Precision.from(Map.of("dtype", spec("dtype").defaultValue()), Map.of()));
        assertEquals(
                Precision.FLOAT32,
                Precision.from(Map.of("precision", spec("precision").defaultValue()), Map.of()));
        assertEquals(Precision.FLOAT32, Precision.from(Map.of(), Map.of()));
    }
}
