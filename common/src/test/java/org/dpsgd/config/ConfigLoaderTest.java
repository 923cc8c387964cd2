package org.dpsgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.SamplingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    static final String VALID = """
            name: fmnist-dp
            seed: 7
            model: {name: fmnist-cnn}
            data:
              format: idx
              path: /data/fmnist
              augmentation: {random_crop: 2, flip: true, multiplicity: 4}
            privacy:
              clip_norm: 0.1
              noise_multiplier: 2.15
              delta: 1e-5
              accountant: pld
            training:
              batch_size: 2048
              epochs: 40
              micro_batch_size: 32
              ema: 0.999
            optimizer: {name: sgd, lr: 4, momentum: 0.9}
            backend:
              name: djl
              settings: {threads: 2}
            """;

    private static IllegalArgumentException fails(String yaml) {
        return assertThrows(IllegalArgumentException.class, () -> ConfigLoader.parse(yaml, "test.yaml"));
    }

    @Test
    void aBackendSettingWithoutAValueIsOneClearLine() {
        IllegalArgumentException e = fails(VALID.replace("settings: {threads: 2}", "settings: {threads: null}"));
        assertTrue(e.getMessage().contains("backend.settings.threads has no value"), e.getMessage());
        IllegalArgumentException o = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.applyOverrides(
                        ConfigLoader.parse(VALID, "test.yaml"), java.util.Map.of("backend.settings.threads", "null")));
        assertTrue(o.getMessage().contains("backend.settings.threads has no value"), o.getMessage());
    }

    @Test
    void loadsAValidYamlConfigWithDefaults() {
        ExperimentConfig c = ConfigLoader.parse(VALID, "test.yaml");
        assertEquals("fmnist-dp", c.name());
        assertEquals(7L, c.seed());
        assertEquals(1e-5, c.privacy().delta());
        assertEquals(2.15, c.privacy().noiseMultiplier());
        assertEquals(AccountantKind.PLD, c.privacy().accountant());
        assertEquals(SamplingMode.POISSON, c.privacy().sampling());
        assertEquals(NoiseMode.SECURE, c.privacy().noise());
        assertEquals(2048, c.training().batchSize());
        assertEquals(4, c.data().augmentation().multiplicity());
        assertEquals(0.9, c.optimizer().momentum());
        assertEquals("2", c.backend().settings().get("threads"));
        assertEquals("group", c.model().norm());
    }

    @Test
    void loadsJsonFromAFileAndNamesTheFileInErrors(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("run.json");
        Files.writeString(json, """
                {"model": {"name": "small-cnn"}, "data": {"format": "synthetic"},
                 "privacy": {"clip_norm": 1.0, "noise_multiplier": 1.1, "delta": 1e-5},
                 "training": {"batch_size": 64, "steps": 10}}""");
        ExperimentConfig c = ConfigLoader.load(json);
        assertEquals(64, c.training().batchSize());
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, VALID.replace("clip_norm: 0.1", "clip_norm: -1"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(bad));
        assertTrue(e.getMessage().startsWith(bad.toString() + ": privacy.clip_norm must be"), e.getMessage());
        IllegalArgumentException missing =
                assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(dir.resolve("nope.yaml")));
        assertTrue(missing.getMessage().contains("does not exist"));
    }

    @Test
    void unknownKeyNamesTheKeyItsSectionAndTheKnownKeys() {
        IllegalArgumentException e = fails(VALID.replace("clip_norm: 0.1", "clip_norm: 0.1\n  clip_nrom: 0.2"));
        assertTrue(e.getMessage().contains("unknown key 'clip_nrom' in section 'privacy'"), e.getMessage());
        assertTrue(e.getMessage().contains("clip_norm") && e.getMessage().contains("noise_multiplier"), e.getMessage());
        IllegalArgumentException top = fails(VALID + "epochs: 3\n");
        assertTrue(top.getMessage().contains("unknown key 'epochs' in the top level"), top.getMessage());
        assertTrue(top.getMessage().contains("training"), top.getMessage());
        IllegalArgumentException nested = fails(VALID.replace("flip: true", "flip: true, rotate: 5"));
        assertTrue(
                nested.getMessage().contains("unknown key 'rotate' in section 'data.augmentation'"),
                nested.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "batch_size: 2048|batch_size: lots|training.batch_size must be an integer, got 'lots'",
                "batch_size: 2048|batch_size: 12.5|training.batch_size must be an integer",
                "noise_multiplier: 2.15|noise_multiplier: high|privacy.noise_multiplier must be a number, got 'high'",
                "flip: true|flip: maybe|data.augmentation.flip must be true or false",
                "model: {name: fmnist-cnn}|model: 5|model must be a section",
                "seed: 7|seed: [1, 2]|seed must be an integer"
            })
    void typeErrorsNameTheKeyAndTheExpectedType(String from, String to, String expected) {
        IllegalArgumentException e = fails(VALID.replace(from, to));
        assertTrue(e.getMessage().startsWith("test.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "clip_norm: 0.1|clip_norm: 0|privacy.clip_norm must be a finite number > 0",
                "delta: 1e-5|delta: 1.5|privacy.delta must be in (0, 1)",
                "delta: 1e-5|delta: 1e-5\\n  target_epsilon: 3|give noise_multiplier or target_epsilon, not both",
                "noise_multiplier: 2.15|delta_: 1|unknown key 'delta_'",
                "accountant: pld|accountant: gdp|privacy.accountant must be 'rdp' or 'pld'",
                "batch_size: 2048|batch_size: 0|training.batch_size must be > 0",
                "epochs: 40|epoch: 40|unknown key 'epoch' in section 'training'",
                "name: sgd, lr: 4|name: rmsprop, lr: 4|optimizer.name must be 'sgd', 'adam' or 'adamw', got 'rmsprop'",
                "format: idx|format: png|data.format 'png' is not one of",
                "model: {name: fmnist-cnn}|model: {name: fmnist-cnn, norm: batch}|BatchNorm is refused",
                "model: {name: fmnist-cnn}|model: {name: vgg}|unknown model 'vgg'"
            })
    void validationErrorsSurfaceWithTheFileName(String from, String to, String expected) {
        String yaml = VALID.replace(from, to.replace("\\n", "\n"));
        IllegalArgumentException e = fails(yaml);
        assertTrue(e.getMessage().startsWith("test.yaml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void neitherSigmaNorTargetIsRefused() {
        IllegalArgumentException e = fails(VALID.replace("  noise_multiplier: 2.15\n", ""));
        assertTrue(e.getMessage().contains("give noise_multiplier (σ) or target_epsilon"), e.getMessage());
    }

    @Test
    void missingSectionsDuplicateKeysSyntaxAndEmptyFiles() {
        assertTrue(fails(VALID.replace("model: {name: fmnist-cnn}\n", ""))
                .getMessage()
                .contains("model: section is required"));
        assertTrue(fails(VALID + "seed: 8\n").getMessage().contains("seed"), "duplicate key");
        assertTrue(fails("model: [unclosed").getMessage().contains("not valid YAML"));
        assertTrue(fails("").getMessage().contains("empty"));
        assertTrue(fails("- a\n- b\n").getMessage().contains("mapping"));
    }

    @Test
    void overridesApplyDottedKeysAndValidateTheSameWay() {
        ExperimentConfig c = ConfigLoader.parse(VALID, "test.yaml");
        ExperimentConfig o = ConfigLoader.applyOverrides(
                c,
                Map.of(
                        "privacy.noise_multiplier",
                        "1.5",
                        "training.batch_size",
                        "512",
                        "backend.settings.threads",
                        "4",
                        "privacy.noise",
                        "fast-insecure",
                        "training.ema",
                        "null"));
        assertEquals(1.5, o.privacy().noiseMultiplier());
        assertEquals(512, o.training().batchSize());
        assertEquals("4", o.backend().settings().get("threads"));
        assertEquals(NoiseMode.FAST_INSECURE, o.privacy().noise());
        assertEquals(null, o.training().ema());
        assertEquals(c.model(), o.model());

        IllegalArgumentException unknown = assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.applyOverrides(c, Map.of("privacy.sigma", "1")));
        assertTrue(unknown.getMessage().contains("unknown key 'sigma' in section 'privacy'"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("overrides"), unknown.getMessage());
        IllegalArgumentException invalid = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.applyOverrides(c, Map.of("privacy.noise_multiplier", "-2")));
        assertTrue(
                invalid.getMessage().contains("privacy.noise_multiplier must be a finite number > 0"),
                invalid.getMessage());
        IllegalArgumentException type = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.applyOverrides(c, Map.of("training.batch_size", "big")));
        assertTrue(type.getMessage().contains("training.batch_size must be an integer"), type.getMessage());
        assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.applyOverrides(c, Map.of("privacy.delta.x", "1")));
        assertThrows(
                IllegalArgumentException.class, () -> ConfigLoader.applyOverrides(c, Map.of("privacy..delta", "1")));
    }

    @Test
    void overridesOnLoadApplyToTheFileBeforeDefaultsResolve(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, VALID.replace("  micro_batch_size: 32\n", ""));
        ExperimentConfig c = ConfigLoader.load(f, ConfigLoader.parseOverrides(List.of("training.batch_size=16")));
        assertEquals(16, c.training().microBatchSize(), "default micro-batch min(64, B) follows the overridden B");
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.parseOverrides(List.of("no-equals-sign")));
    }

    @Test
    void toYamlRoundTripsTheResolvedConfig() {
        ExperimentConfig c = ConfigLoader.parse(VALID, "test.yaml");
        String yaml = ConfigLoader.toYaml(c);
        assertFalse(yaml.startsWith("---"));
        assertTrue(yaml.contains("sampling: poisson") && yaml.contains("noise: secure"), yaml);
        assertEquals(c, ConfigLoader.parse(yaml, "resolved.yaml"));
    }
}
