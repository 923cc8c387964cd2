package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SampledGaussianTest {

    @Test
    void flattensAndMergesEqualSettings() {
        DpEvent step = DpEvent.dpSgdStep(0.01, 1.0);
        List<SampledGaussian> terms = SampledGaussian.flatten(List.of(
                new DpEvent.SelfComposed(step, 10),
                new DpEvent.Composed(List.of(step, new DpEvent.Gaussian(2.0))),
                new DpEvent.SelfComposed(new DpEvent.SelfComposed(step, 3), 4)));
        assertEquals(List.of(new SampledGaussian(0.01, 1.0, 23), new SampledGaussian(1.0, 2.0, 1)), terms);
    }

    @Test
    void nestedSamplingMultipliesRates() {
        DpEvent nested = new DpEvent.PoissonSampled(0.5, new DpEvent.PoissonSampled(0.1, new DpEvent.Gaussian(1.0)));
        assertEquals(List.of(new SampledGaussian(0.05, 1.0, 1)), SampledGaussian.flatten(List.of(nested)));
    }

    @Test
    void gaussiansOnOneSampleActAsOneGaussian() {
        DpEvent two = new DpEvent.PoissonSampled(
                0.1, new DpEvent.Composed(List.of(new DpEvent.Gaussian(3.0), new DpEvent.Gaussian(4.0))));
        SampledGaussian term = SampledGaussian.flatten(List.of(two)).get(0);
        assertEquals(1 / Math.sqrt(1 / 9.0 + 1 / 16.0), term.noiseMultiplier(), 1e-15);
    }

    @Test
    void refusesWhatItCannotAccount() {
        DpEvent nestedInComposition = new DpEvent.PoissonSampled(
                0.1,
                new DpEvent.Composed(List.of(
                        new DpEvent.Gaussian(1.0), new DpEvent.PoissonSampled(0.5, new DpEvent.Gaussian(1.0)))));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> SampledGaussian.flatten(List.of(nestedInComposition)));
        assertTrue(e.getMessage().contains("nested"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> SampledGaussian.flatten(List.of(new DpEvent.Gaussian(Double.POSITIVE_INFINITY))));
        assertThrows(IllegalArgumentException.class, () -> new PrivacyLedger().append(null));
    }

    @Test
    void registryKnowsBothAccountantsAndRejectsOthers() {
        assertEquals("rdp", Accountants.create(AccountantKind.RDP).name());
        assertEquals("pld", Accountants.create(AccountantKind.PLD).name());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AccountantKind.parse("--accountant", "moments"));
        assertEquals("--accountant must be 'rdp' or 'pld', got 'moments'", e.getMessage());
    }
}
