package org.dpsgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
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
        ExperimentConfig c = ConfigLoader.applyOverrides(
                BASE, Map.of("privacy.sampling", "shuffle", "privacy.noise", "fast-insecure"));
        List<String> w = ConfigWarnings.check(c, 60000);
        assertEquals(2, w.size());
        assertTrue(w.get(0).contains("does NOT hold"));
        assertTrue(w.get(1).contains("fast-insecure"));
        assertTrue(ConfigWarnings.check(BASE.withPrivacy(PrivacyConfig.disabled()), 10)
                .get(0)
                .contains("non-private"));
    }

    @Test
    void meaninglessEpsilonIsAboveOneHundredInfiniteOrNaN() {
        assertFalse(ConfigWarnings.meaninglessEpsilon(0));
        assertFalse(ConfigWarnings.meaninglessEpsilon(8));
        assertFalse(ConfigWarnings.meaninglessEpsilon(100));
        assertTrue(ConfigWarnings.meaninglessEpsilon(Math.nextUp(100.0)));
        assertTrue(ConfigWarnings.meaninglessEpsilon(2.2e18));
        assertTrue(ConfigWarnings.meaninglessEpsilon(Double.POSITIVE_INFINITY));
        assertTrue(ConfigWarnings.meaninglessEpsilon(Double.NaN));
    }

    /** The case: σ = 1e-9 trained without a word. The warning names the planned ε (RDP) and the fix. */
    @Test
    void tinySigmaWarnsLoudlyWithThePlannedEpsilon() {
        ExperimentConfig c = ConfigLoader.applyOverrides(BASE, Map.of("privacy.noise_multiplier", "1e-9"));
        List<String> w = ConfigWarnings.check(c, 60000);
        assertEquals(1, w.size(), w.toString());
        double planned = Accountants.epsilon(2048.0 / 60000, 1e-9, 1172, 1e-5, AccountantKind.RDP);
        assertTrue(planned > 1e15, "RDP ε of σ = 1e-9: " + planned);
        assertTrue(
                w.get(0)
                        .startsWith("WARNING: ε = " + String.format(java.util.Locale.ROOT, "%.3g", planned)
                                + " at δ = 1.0E-5 is above 100"),
                w.get(0));
        assertTrue(
                w.get(0).contains("raise privacy.noise_multiplier") && w.get(0).endsWith("(planned ε over 1172 steps)"),
                w.get(0));
    }

    /** The threshold applies to the planned ε: σ just either side of ε = 100 (found by bisection on the accountant). */
    @Test
    void theWarningFollowsThePlannedEpsilonAcrossTheThreshold() {
        double lo = 0.01, hi = 10; // ε(σ) decreases in σ
        for (int i = 0; i < 60; i++) {
            double mid = Math.sqrt(lo * hi);
            if (Accountants.epsilon(2048.0 / 60000, mid, 1172, 1e-5, AccountantKind.RDP) > 100) lo = mid;
            else hi = mid;
        }
        ExperimentConfig below =
                ConfigLoader.applyOverrides(BASE, Map.of("privacy.noise_multiplier", Double.toString(hi * 1.01)));
        ExperimentConfig above =
                ConfigLoader.applyOverrides(BASE, Map.of("privacy.noise_multiplier", Double.toString(lo * 0.99)));
        assertEquals(List.of(), ConfigWarnings.check(below, 60000));
        assertEquals(1, ConfigWarnings.check(above, 60000).size());
    }

    @Test
    void aMeaninglessTargetEpsilonWarnsAndAModestOneDoesNot() {
        ExperimentConfig big = BASE.withPrivacy(PrivacyConfig.withTarget(0.1, 500, 1e-6));
        List<String> w = ConfigWarnings.check(big, 60000);
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).startsWith("WARNING: ε = 500 at δ = 1.0E-6 is above 100"), w.get(0));
        assertEquals(List.of(), ConfigWarnings.check(BASE.withPrivacy(PrivacyConfig.withTarget(0.1, 8, 1e-6)), 60000));
    }
}
