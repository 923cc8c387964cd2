package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.NoiseCalibration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PrivacyCommandTest {

    /** Runs the CLI; returns {exit code, stdout, stderr}. */
    private static Object[] cli(String... args) {
        return CommandsTest.cli(args);
    }

    private static JsonNode json(Object[] r) throws Exception {
        assertEquals(0, r[0], (String) r[2]);
        String out = ((String) r[1]).strip();
        assertEquals(1, out.lines().count(), "exactly one line on stdout: " + out);
        return new ObjectMapper().readTree(out);
    }

    @Test
    void epsilonJsonHasTheAgreedKeysAndTheAccountantsValue() throws Exception {
        JsonNode j = json(cli(
                "privacy",
                "epsilon",
                "--sampling-rate",
                "0.01",
                "--noise-multiplier",
                "4",
                "--steps",
                "10000",
                "--delta",
                "1e-5",
                "--json"));
        assertEquals(
                Accountants.epsilon(0.01, 4, 10000, 1e-5, AccountantKind.RDP),
                j.get("epsilon").asDouble(),
                0);
        assertEquals(1.0354900660362436, j.get("epsilon").asDouble(), 1e-9); // dp_accounting's value
        assertEquals(1e-5, j.get("delta").asDouble());
        assertEquals(4.0, j.get("noise_multiplier").asDouble());
        assertEquals(0.01, j.get("sampling_rate").asDouble());
        assertEquals(10000, j.get("steps").asLong());
        assertEquals("rdp", j.get("accountant").asText());
        assertEquals(17.0, j.get("order").asDouble());
    }

    @Test
    void epsilonWithPld() throws Exception {
        JsonNode j = json(cli(
                "privacy",
                "epsilon",
                "--sampling-rate",
                "0.01",
                "--noise-multiplier",
                "4",
                "--steps",
                "10000",
                "--delta",
                "1e-5",
                "--accountant",
                "pld",
                "--json"));
        assertEquals("pld", j.get("accountant").asText());
        assertEquals(0.9469993059852784, j.get("epsilon").asDouble(), 0.02 * 0.947); // dp_accounting's PLD value
    }

    @Test
    void epsilonHumanText() {
        Object[] r = cli(
                "privacy",
                "epsilon",
                "--sampling-rate",
                "0.01",
                "--noise-multiplier",
                "4",
                "--steps",
                "10000",
                "--delta",
                "1e-5");
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("ε = 1.03549"), (String) r[1]);
    }

    @Test
    void datasetFormResolvesToSamplingRateAndSteps() throws Exception {
        // TF-Privacy MNIST tutorial: N = 60000, B = 256, 60 epochs → q = 256/60000, T = ceil(60·60000/256) = 14063.
        JsonNode j = json(cli(
                "privacy",
                "epsilon",
                "--dataset-size",
                "60000",
                "--batch-size",
                "256",
                "--epochs",
                "60",
                "--noise-multiplier",
                "1.1",
                "--delta",
                "1e-5",
                "--json"));
        assertEquals(256 / 60000.0, j.get("sampling_rate").asDouble(), 1e-15);
        assertEquals(14063, j.get("steps").asLong());
        assertEquals(60000, j.get("dataset_size").asLong());
    }

    @Test
    void calibrateFindsTheSigmaThatMeetsTheTarget() throws Exception {
        JsonNode j = json(cli(
                "privacy",
                "calibrate",
                "--target-epsilon",
                "3",
                "--delta",
                "1e-5",
                "--dataset-size",
                "60000",
                "--batch-size",
                "256",
                "--epochs",
                "60",
                "--json"));
        double sigma = j.get("noise_multiplier").asDouble();
        assertEquals(1.0140218983389375, sigma, 0.005 * 1.014); // dp_accounting's calibration
        assertTrue(j.get("epsilon").asDouble() <= 3.0);
        assertEquals(3.0, j.get("target_epsilon").asDouble());
        assertEquals(
                NoiseCalibration.calibrate(3, 1e-5, 256 / 60000.0, 14063, AccountantKind.RDP)
                        .noiseMultiplier(),
                sigma,
                0);
        for (String key :
                new String[] {"epsilon", "delta", "noise_multiplier", "sampling_rate", "steps", "accountant"}) {
            assertTrue(j.has(key), key);
        }
    }

    @Test
    void calibrateHumanText() {
        Object[] r = cli(
                "privacy",
                "calibrate",
                "--target-epsilon",
                "2",
                "--delta",
                "1e-5",
                "--sampling-rate",
                "1",
                "--steps",
                "10");
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).startsWith("σ = 6.79"), (String) r[1]);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "privacy epsilon --noise-multiplier 1 --steps 10 --delta 1e-5|missing --sampling-rate",
                "privacy epsilon --sampling-rate 0.01 --noise-multiplier 1 --delta 1e-5|missing --steps",
                "privacy epsilon --sampling-rate 0.01 --steps 10 --delta 1e-5|missing --noise-multiplier",
                "privacy epsilon --sampling-rate 0.01 --noise-multiplier 1 --steps 10|missing --delta",
                "privacy epsilon --sampling-rate 0 --noise-multiplier 1 --steps 10 --delta 1e-5|--sampling-rate must be in (0, 1]",
                "privacy epsilon --sampling-rate 1.5 --noise-multiplier 1 --steps 10 --delta 1e-5|--sampling-rate must be in (0, 1]",
                "privacy epsilon --sampling-rate 0.1 --noise-multiplier 0 --steps 10 --delta 1e-5|--noise-multiplier must be",
                "privacy epsilon --sampling-rate 0.1 --noise-multiplier -2 --steps 10 --delta 1e-5|--noise-multiplier must be",
                "privacy epsilon --sampling-rate 0.1 --noise-multiplier 1 --steps 10 --delta 1|--delta must be in (0, 1)",
                "privacy epsilon --sampling-rate 0.1 --noise-multiplier 1 --steps 10 --delta 0|--delta must be in (0, 1)",
                "privacy epsilon --sampling-rate 0.1 --noise-multiplier 1 --steps 0 --delta 1e-5|--steps must be >= 1",
                "privacy epsilon --sampling-rate 0.1 --noise-multiplier 1 --steps 10 --delta 1e-5 --accountant gdp|--accountant must be 'rdp' or 'pld', got 'gdp'",
                "privacy epsilon --sampling-rate 0.1 --steps 10 --dataset-size 100 --batch-size 10 --epochs 1 --noise-multiplier 1 --delta 1e-5|not both",
                "privacy epsilon --dataset-size 100 --batch-size 10 --noise-multiplier 1 --delta 1e-5|go together",
                "privacy epsilon --dataset-size 100 --batch-size 200 --epochs 1 --noise-multiplier 1 --delta 1e-5|exceeds --dataset-size",
                "privacy calibrate --delta 1e-5 --sampling-rate 0.01 --steps 100|missing --target-epsilon",
                "privacy calibrate --target-epsilon -1 --delta 1e-5 --sampling-rate 0.01 --steps 100|--target-epsilon must be",
                "privacy bench --steps 0|--steps must be >= 1"
            })
    void nonsenseGetsAOneLineErrorNamingTheFix(String line, String expected) {
        Object[] r = cli(line.split(" "));
        assertEquals(2, r[0], "exit code for: " + line);
        String err = ((String) r[2]).strip();
        assertTrue(err.startsWith("error: ") && err.contains(expected), err);
        assertEquals(1, err.lines().count(), err);
        assertEquals("", ((String) r[1]).strip());
    }

    @Test
    void deltaNotBelowOneOverNWarns() throws Exception {
        Object[] r = cli(
                "privacy",
                "epsilon",
                "--dataset-size",
                "1000",
                "--batch-size",
                "10",
                "--epochs",
                "1",
                "--noise-multiplier",
                "1",
                "--delta",
                "0.01",
                "--json");
        json(r);
        assertTrue(((String) r[2]).contains("warning: --delta 0.01 is not below 1/N"), (String) r[2]);
    }

    @Test
    void benchTimesBothAccountants() throws Exception {
        JsonNode j = json(cli("privacy", "bench", "--steps", "1000", "--repeats", "1", "--json"));
        assertEquals(2, j.get("results").size());
        assertEquals("rdp", j.get("results").get(0).get("accountant").asText());
        assertEquals("pld", j.get("results").get(1).get("accountant").asText());
        assertEquals(
                Accountants.epsilon(0.01, 1.0, 1000, 1e-5, AccountantKind.PLD),
                j.get("results").get(1).get("epsilon").asDouble(),
                0);
    }
}
