package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
                List.of("threads", "interop_threads", "omp_wait_policy", "dtype", "seed"),
                DjlBackendProvider.SETTINGS.stream().map(SettingSpec::key).toList());
    }

    @Test
    void everyDtypeTheTableAllowsIsOneThatPrecisionParsesAndNoOther() {
        for (String v : spec("dtype").allowed()) assertNotNull(Precision.from(Map.of("dtype", v), Map.of()), v);
        assertNotNull(spec("dtype").problem("int8"));
        assertThrows(IllegalArgumentException.class, () -> Precision.from(Map.of("dtype", "int8"), Map.of()));
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
    }
}
