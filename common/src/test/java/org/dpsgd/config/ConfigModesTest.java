package org.dpsgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.dpsgd.ConfigChoice;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.noise.NoiseMode;
import org.dpsgd.sampling.SamplingMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The config's modes are enums: each name binds to its constant, and a bad one is one line naming key, value, choices. */
class ConfigModesTest {
    private static final String BASE = ConfigLoaderTest.VALID;

    private static ExperimentConfig withPrivacy(String line) {
        return ConfigLoader.parse(BASE.replace("  accountant: pld\n", "  " + line + "\n"), "test.yaml");
    }

    @Test
    void everyNameBindsToItsConstantAndWritesBackTheSame() {
        for (AccountantKind k : AccountantKind.values())
            assertEquals(
                    k, withPrivacy("accountant: " + k.configName()).privacy().accountant());
        for (NoiseMode k : NoiseMode.values())
            assertEquals(k, withPrivacy("noise: " + k.configName()).privacy().noise());
        for (SamplingMode k : SamplingMode.values())
            assertEquals(k, withPrivacy("sampling: " + k.configName()).privacy().sampling());
        for (DiagnosticsMode k : DiagnosticsMode.values())
            assertEquals(
                    k, withPrivacy("diagnostics: " + k.configName()).privacy().diagnostics());
        for (ClippingMode k : ClippingMode.values())
            assertEquals(k, withPrivacy("clipping: " + k.configName()).privacy().clipping());
        ExperimentConfig c = withPrivacy("noise: fast-insecure\n  sampling: shuffle\n  clipping: per_layer");
        // Provenance YAML spells the modes as the user did, and loads back to an equal config.
        String yaml = ConfigLoader.toYaml(c);
        assertEquals(true, yaml.contains("noise: fast-insecure") && yaml.contains("clipping: per_layer"), yaml);
        assertEquals(c, ConfigLoader.parse(yaml, "back.yaml"));
        // Messages built by concatenation keep reading as before.
        assertEquals("fast-insecure", String.valueOf(NoiseMode.FAST_INSECURE));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "accountant: gdp|privacy.accountant must be 'rdp' or 'pld', got 'gdp'",
                "noise: fast|privacy.noise must be 'secure' or 'fast-insecure', got 'fast'",
                "noise: SECURE|privacy.noise must be 'secure' or 'fast-insecure', got 'SECURE'",
                "sampling: uniform|privacy.sampling must be 'poisson' or 'shuffle', got 'uniform'",
                "diagnostics: all|privacy.diagnostics must be 'none' or 'raw', got 'all'",
                "clipping: layerwise|privacy.clipping must be 'flat' or 'per_layer', got 'layerwise'",
                "noise: 1|privacy.noise must be 'secure' or 'fast-insecure', got '1'"
            })
    void aBadModeIsOneLineNamingTheKeyTheValueAndTheChoices(String line, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> withPrivacy(line));
        assertEquals("test.yaml: " + expected, e.getMessage());
    }

    @Test
    void theOptimizerAndItsScheduleAreModesToo() {
        ExperimentConfig c = ConfigLoader.parse(
                BASE.replace(
                        "optimizer: {name: sgd, lr: 4, momentum: 0.9}",
                        "optimizer: {name: adamw, lr: 4, schedule: cosine}"),
                "test.yaml");
        assertEquals(OptimizerKind.ADAMW, c.optimizer().name());
        assertEquals(ScheduleKind.COSINE, c.optimizer().schedule());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.parse(
                        BASE.replace("momentum: 0.9}", "momentum: 0.9, schedule: step}"), "test.yaml"));
        assertEquals("test.yaml: optimizer.schedule must be 'constant' or 'cosine', got 'step'", e.getMessage());
    }

    @Test
    void anOverrideIsCheckedTheSameWay() {
        ExperimentConfig c = ConfigLoader.parse(BASE, "test.yaml");
        assertEquals(
                AccountantKind.RDP,
                ConfigLoader.applyOverrides(c, Map.of("privacy.accountant", "rdp"))
                        .privacy()
                        .accountant());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ConfigLoader.applyOverrides(c, Map.of("privacy.noise", "insecure")));
        assertEquals(
                "overrides {privacy.noise=insecure}: privacy.noise must be 'secure' or 'fast-insecure', got 'insecure'",
                e.getMessage());
    }

    @Test
    void choicesReadAsAList() {
        assertEquals("'rdp' or 'pld'", ConfigChoice.choices(AccountantKind.class));
        assertEquals(
                "'observed_likelihood_ratio', 'likelihood_ratio', 'sum' or 'loss'",
                ConfigChoice.choices(AuditScore.class));
        assertEquals(SamplingMode.SHUFFLE, SamplingMode.parse("--sampling", "shuffle"));
    }
}
