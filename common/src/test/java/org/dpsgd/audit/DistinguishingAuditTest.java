package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.audit.AuditedRun.Defect;
import org.dpsgd.audit.AuditedRun.Settings;
import org.dpsgd.audit.DistinguishingAudit.Statistic;
import org.junit.jupiter.api.Test;

/**
 * The planted defect a one-run audit cannot see: the noisy sum divided by the realised batch size L
 * instead of q·N. What leaks is L, which every example shares, so the test is a multi-run
 * distinguishing audit ({@link DistinguishingAudit}) through the real {@link org.dpsgd.train.DpSgdTrainer}.
 */
class DistinguishingAuditTest {
    /** N = 10, q = 1, 20 steps, claimed ε = 1: 200 runs, 1900 probe coordinates each. */
    private static final Settings SETTINGS = new Settings(10, 10, 20, 1, 1, false, true, 5);

    private static final int RUNS = 200;
    private static final int PROBES = 1900;

    @Test
    void catchesDivisionByTheRealisedBatchSize() {
        DistinguishingAudit.Result r = DistinguishingAudit.run(
                SETTINGS, Defect.DIVIDED_BY_REALISED_BATCH_SIZE, Statistic.PROBE_ENERGY, RUNS, PROBES);
        assertTrue(r.outRuns() > 60 && r.inRuns() > 60, r.toString());
        assertTrue(r.epsilonLower() > r.claimed() + 1, "ε_lower " + r.epsilonLower() + " vs claimed " + r);
    }

    /** The same test on the honest mechanism: the probe noise does not depend on x, so nothing is shown. */
    @Test
    void honestRunIsNotDistinguished() {
        DistinguishingAudit.Result r =
                DistinguishingAudit.run(SETTINGS, Defect.NONE, Statistic.PROBE_ENERGY, RUNS, PROBES);
        assertTrue(r.epsilonLower() <= r.claimed(), r.toString());
    }

    /**
     * Soundness of the distinguishing audit itself: on an honest run at claimed ε = 8 the Dirac test on
     * x's own coordinate does distinguish (ε_lower > 0) but stays at or below the claim.
     */
    @Test
    void honestRunSurvivesTheDiracTest() {
        DistinguishingAudit.Result r = DistinguishingAudit.run(
                new Settings(10, 10, 20, 8, 1, false, true, 6), Defect.NONE, Statistic.TARGET_SUM, RUNS, 10);
        assertTrue(r.epsilonLower() > 0 && r.epsilonLower() <= r.claimed(), r.toString());
    }

    /** Clopper–Pearson against its closed forms: k = 0 gives 1 − α^{1/n}; k = n − 1 gives (1 − α)^{1/n}. */
    @Test
    void clopperPearsonMatchesClosedForms() {
        for (int n : new int[] {1, 7, 100, 1000}) {
            assertEquals(1 - Math.pow(0.025, 1.0 / n), DistinguishingAudit.upperBound(0, n, 0.025), 1e-9);
            if (n > 1) assertEquals(Math.pow(0.975, 1.0 / n), DistinguishingAudit.upperBound(n - 1, n, 0.025), 1e-9);
        }
        assertEquals(1, DistinguishingAudit.upperBound(5, 5, 0.025));
    }
}
