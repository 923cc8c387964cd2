package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.config.AuditConfig;
import org.dpsgd.config.AuditKind;
import org.dpsgd.config.AuditScore;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.junit.jupiter.api.Test;

class AuditConfigTest {
    private static final String BASE = """
            model: {name: small-cnn}
            data: {format: synthetic}
            privacy: {clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-5}
            training: {batch_size: 10, steps: 10}
            """;

    @Test
    void sectionIsOptionalAndFilledWithDefaults() {
        assertNull(ConfigLoader.parse(BASE, "a.yaml").audit());
        ExperimentConfig c = ConfigLoader.parse(BASE + "audit: {canaries: 5000}\n", "a.yaml");
        assertEquals(new AuditConfig(5000, AuditKind.WHITEBOX, 0.95, AuditScore.OBSERVED_LIKELIHOOD_RATIO), c.audit());
        // Round trip through the provenance YAML keeps it.
        assertEquals(c, ConfigLoader.parse(ConfigLoader.toYaml(c), "b.yaml"));
        assertEquals(c.audit(), c.withPrivacy(c.privacy()).audit());
    }

    @Test
    void badValuesAreOneClearLine() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.parse(BASE + "audit: {confidence: 1.5}\n", "a.yaml"));
        assertTrue(e.getMessage().contains("audit.confidence"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.parse(BASE + "audit: {canary: 5}\n", "a.yaml"));
        assertTrue(e.getMessage().contains("canary"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.parse(BASE + "audit: {kind: greybox}\n", "a.yaml"));
        assertEquals("a.yaml: audit.kind must be 'whitebox' or 'blackbox', got 'greybox'", e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.parse(BASE + "audit: {score: best}\n", "a.yaml"));
        assertEquals(
                "a.yaml: audit.score must be 'observed_likelihood_ratio', 'likelihood_ratio', 'sum' or 'loss', got"
                        + " 'best'",
                e.getMessage());
        // Each kind has its own scores: a gradient score makes no sense for input canaries, nor loss for gradient ones.
        e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.parse(BASE + "audit: {kind: blackbox, score: sum}\n", "a.yaml"));
        assertTrue(e.getMessage().contains("blackbox") && e.getMessage().contains("loss"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.parse(BASE + "audit: {kind: whitebox, score: loss}\n", "a.yaml"));
    }

    @Test
    void blackboxDefaultsToTheLossScore() {
        ExperimentConfig c = ConfigLoader.parse(BASE + "audit: {kind: blackbox, canaries: 300}\n", "a.yaml");
        assertEquals(new AuditConfig(300, AuditKind.BLACKBOX, 0.95, AuditScore.LOSS), c.audit());
        assertEquals(c, ConfigLoader.parse(ConfigLoader.toYaml(c), "b.yaml"));
    }

    @Test
    void boundDefaultsToSteinkeAndAcceptsFdp() {
        assertEquals(AuditBound.STEINKE, AuditConfig.defaults().bound());
        ExperimentConfig c = ConfigLoader.parse(BASE + "audit: {bound: fdp}\n", "a.yaml");
        assertEquals(
                new AuditConfig(1000, AuditKind.WHITEBOX, 0.95, AuditScore.OBSERVED_LIKELIHOOD_RATIO, AuditBound.FDP),
                c.audit());
        assertEquals(c, ConfigLoader.parse(ConfigLoader.toYaml(c), "b.yaml"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.parse(BASE + "audit: {bound: gdp}\n", "a.yaml"));
        assertTrue(e.getMessage().contains("audit.bound must be 'steinke' or 'fdp', got 'gdp'"), e.getMessage());
    }
}
