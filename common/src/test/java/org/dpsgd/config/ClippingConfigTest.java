package org.dpsgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** privacy.clipping and privacy.per_layer: defaults, round trip, and one-line errors. */
class ClippingConfigTest {
    private static String config(String privacyExtra) {
        return ConfigLoaderTest.VALID.replace("  accountant: pld\n", "  accountant: pld\n" + privacyExtra);
    }

    private static String indent(String[] lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) sb.append("  ").append(l).append('\n');
        return sb.toString();
    }

    @Test
    void flatIsTheDefault() {
        PrivacyConfig p = ConfigLoader.parse(ConfigLoaderTest.VALID, "t.yaml").privacy();
        assertEquals(ClippingMode.FLAT, p.clipping());
        assertNull(p.perLayer());
        assertTrue(!p.perLayerClipping());
    }

    @Test
    void perLayerDefaultsToAnEqualSplitPerTensor() {
        PrivacyConfig p =
                ConfigLoader.parse(config("  clipping: per_layer\n"), "t.yaml").privacy();
        assertTrue(p.perLayerClipping());
        assertEquals("equal", p.perLayer().split());
        assertEquals("tensor", p.perLayer().groups());
    }

    @Test
    void explicitThresholdsRoundTripThroughYaml() {
        // sqrt(0.06² + 0.08²) = 0.1 = clip_norm
        ExperimentConfig c = ConfigLoader.parse(
                config(
                        "  clipping: per_layer\n  per_layer: {split: explicit, thresholds: [0.06, 0.08], groups: layer}\n"),
                "t.yaml");
        assertEquals(List.of(0.06, 0.08), c.privacy().perLayer().thresholds());
        assertEquals("layer", c.privacy().perLayer().groups());
        assertEquals(c, ConfigLoader.parse(ConfigLoader.toYaml(c), "again.yaml"));
        assertEquals(c, ConfigLoader.applyOverrides(c, Map.of("privacy.per_layer.groups", "layer")));
    }

    @Test
    void overridesSwitchToPerLayer() {
        ExperimentConfig c = ConfigLoader.parse(ConfigLoaderTest.VALID, "t.yaml");
        ExperimentConfig p = ConfigLoader.applyOverrides(
                c, Map.of("privacy.clipping", "per_layer", "privacy.per_layer.split", "sqrt_params"));
        assertEquals("sqrt_params", p.privacy().perLayer().split());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "clipping: layerwise\\n|privacy.clipping must be 'flat' or 'per_layer'",
                "per_layer: {split: equal}\\n|privacy.per_layer is set but privacy.clipping is flat",
                "clipping: per_layer\\nper_layer: {split: half}\\n|privacy.per_layer.split must be equal, sqrt_params or explicit",
                "clipping: per_layer\\nper_layer: {groups: block}\\n|privacy.per_layer.groups must be tensor or layer",
                "clipping: per_layer\\nper_layer: {split: explicit}\\n|split: explicit needs thresholds",
                "clipping: per_layer\\nper_layer: {split: explicit, thresholds: [0.1, 0]}\\n|privacy.per_layer.thresholds[1] must be a finite number > 0",
                "clipping: per_layer\\nper_layer: {split: explicit, thresholds: [0.1, -2]}\\n|privacy.per_layer.thresholds[1] must be a finite number > 0",
                "clipping: per_layer\\nper_layer: {split: equal, thresholds: [0.1]}\\n|thresholds is only used with split: explicit",
                "clipping: per_layer\\nper_layer: {split: explicit, thresholds: [0.1, 0.1]}\\n|must equal sqrt(Σ C_l²) = 0.1414",
                "clipping: per_layer\\nper_layer: {split: equal, tresholds: [1]}\\n|unknown key 'tresholds' in section 'privacy.per_layer'",
            })
    void badClippingConfigIsOneClearLine(String extra, String expected) {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.parse(config(indent(extra.split("\\\\n"))), "t.yaml"));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
}
