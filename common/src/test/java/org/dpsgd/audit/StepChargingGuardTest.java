package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.audit.AuditedRun.Defect;
import org.dpsgd.audit.AuditedRun.Prepared;
import org.dpsgd.audit.AuditedRun.Settings;
import org.dpsgd.train.DpSgdTrainer;
import org.junit.jupiter.api.Test;

/**
 * The guard for the planted defect no audit of practical size can see ("the accountant charged
 * with half the steps", docs/audit.md): after every step the ε the trainer reports is the
 * accountant's ε for exactly the steps taken, at the run's q and σ. The same check on the planted
 * defect fails, so the guard has teeth.
 */
class StepChargingGuardTest {
    private static final Settings SETTINGS = new Settings(1000, 50, 40, 2, 2, false, true, 1);

    @Test
    void everyStepTakenIsCharged() {
        assertEquals(40, stepsWhoseEpsilonMatches(Defect.NONE));
    }

    @Test
    void theGuardCatchesHalfTheStepsCharged() {
        assertTrue(stepsWhoseEpsilonMatches(Defect.HALF_THE_STEPS_CHARGED) <= 1);
    }

    /** How many steps report exactly the accountant's ε for the steps taken so far. */
    private static int stepsWhoseEpsilonMatches(Defect defect) {
        Prepared p = AuditedRun.prepare(SETTINGS, defect, 0);
        int matching = 0;
        try (DpSgdTrainer trainer = p.trainer()) {
            double q = trainer.mechanism().samplingRate(),
                    sigma = trainer.mechanism().noiseMultiplier();
            while (trainer.canStep()) {
                trainer.step();
                double expected =
                        Accountants.epsilon(q, sigma, trainer.stepsDone(), AuditedRun.DELTA, AccountantKind.RDP);
                if (Math.abs(trainer.epsilon() - expected) <= 1e-9 * expected) matching++;
            }
        }
        return matching;
    }
}
