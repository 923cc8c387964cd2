package org.dpsgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigWarningsTest {
    private static final ExperimentConfig BASE = ConfigLoader.parse(ConfigLoaderTest.VALID, "test.yaml");

    @Test
    void noWarningsForASoundConfig() {
        assertEquals(List.of(), ConfigWarnings.check(BASE, 60000));
    }

    @Test
    void deltaAtLeastOneOverNWarns() {
        List<String> w = ConfigWarnings.check(BASE, 100_000); // δ = 1e-5 = 1/N
        assertEquals(1, w.size());
        assertTrue(w.get(0).contains("privacy.delta") && w.get(0).contains("1/N"), w.get(0));
    }

    @Test
    void shuffleAndInsecureNoiseWarn() {
        ExperimentConfig c = ConfigLoader.applyOverrides(BASE, Map.of("privacy.sampling", "shuffle", "privacy.noise", "fast-insecure"));
        List<String> w = ConfigWarnings.check(c, 60000);
        assertEquals(2, w.size());
        assertTrue(w.get(0).contains("does NOT hold"));
        assertTrue(w.get(1).contains("fast-insecure"));
        assertTrue(ConfigWarnings.check(BASE.withPrivacy(PrivacyConfig.disabled()), 10).get(0).contains("non-private"));
    }
}
