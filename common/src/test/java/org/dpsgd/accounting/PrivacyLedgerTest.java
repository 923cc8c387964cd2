package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrivacyLedgerTest {

    @Test
    void consecutiveIdenticalStepsMergeIntoOneEntry() {
        PrivacyLedger ledger = new PrivacyLedger();
        for (int i = 0; i < 100_000; i++) ledger.append(DpEvent.dpSgdStep(0.01, 1.1));
        assertEquals(List.of(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.01, 1.1), 100_000)), ledger.events());
    }

    @Test
    void aChangeOfSettingsStartsANewEntry() {
        PrivacyLedger ledger = new PrivacyLedger();
        ledger.append(DpEvent.dpSgdStep(0.01, 1.1));
        ledger.append(DpEvent.dpSgdStep(0.01, 1.1));
        ledger.append(DpEvent.dpSgdStep(0.02, 1.1));
        ledger.append(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.02, 1.1), 5));
        ledger.append(DpEvent.dpSgdStep(0.01, 1.1));
        assertEquals(
                List.of(
                        new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.01, 1.1), 2),
                        new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.02, 1.1), 6),
                        DpEvent.dpSgdStep(0.01, 1.1)),
                ledger.events());
    }

    @Test
    void jsonRoundTripRebuildsTheSameAccountants() {
        PrivacyLedger ledger = new PrivacyLedger();
        for (int i = 0; i < 500; i++) ledger.append(DpEvent.dpSgdStep(0.01, 1.0));
        for (int i = 0; i < 300; i++) ledger.append(DpEvent.dpSgdStep(0.02, 2.0));
        ledger.append(new DpEvent.Gaussian(5.0));
        String json = ledger.toJson();
        assertTrue(json.contains("\"type\":\"self_composed\"") && json.contains("\"type\":\"poisson_sampled\""), json);
        PrivacyLedger back = PrivacyLedger.fromJson(json);
        assertEquals(ledger.events(), back.events());
        for (AccountantKind name : AccountantKind.values()) {
            Accountant live = Accountants.create(name);
            ledger.replayInto(live);
            Accountant resumed = Accountants.restore(name, back);
            assertEquals(live.epsilon(1e-5), resumed.epsilon(1e-5), 0, name.configName());
            assertEquals(ledger.events(), resumed.ledger());
        }
    }

    @Test
    void resumingAndContinuingEqualsAnUninterruptedRun() {
        Accountant uninterrupted = Accountants.create(AccountantKind.RDP);
        for (int i = 0; i < 2000; i++) uninterrupted.compose(DpEvent.dpSgdStep(0.004, 1.1));
        Accountant first = Accountants.create(AccountantKind.RDP);
        for (int i = 0; i < 1200; i++) first.compose(DpEvent.dpSgdStep(0.004, 1.1));
        PrivacyLedger saved = new PrivacyLedger();
        first.ledger().forEach(saved::append);
        Accountant resumed = Accountants.restore(AccountantKind.RDP, PrivacyLedger.fromJson(saved.toJson()));
        for (int i = 0; i < 800; i++) resumed.compose(DpEvent.dpSgdStep(0.004, 1.1));
        assertEquals(uninterrupted.epsilon(1e-5), resumed.epsilon(1e-5), 1e-12);
        assertEquals(1, resumed.ledger().size());
    }

    @Test
    void badJsonIsAClearError() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> PrivacyLedger.fromJson("{not json"));
        assertTrue(e.getMessage().contains("privacy ledger"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> PrivacyLedger.fromJson("{}"));
        assertThrows(
                IllegalArgumentException.class,
                () -> PrivacyLedger.fromJson("{\"events\":[{\"type\":\"gaussian\",\"noiseMultiplier\":-1}]}"));
    }
}
