package org.dpsgd.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: the measurement behind docs/audit.md's table, run only on request, e.g.
 * {@code mvn -o -pl common test -Dtest=ExploreAudit -Dexplore="1000,50,200,2,1000,1" -Dscore=observed -Ddefects=NONE,NOISE_HALVED}
 * (each run: N, batch, steps, claimed ε, canaries[, seed]; runs separated by ';'). Prints one line per run and defect.
 */
@EnabledIfSystemProperty(named = "explore", matches = ".+")
class ExploreAudit {
    @Test
    void explore() {
        String[] cfgs = System.getProperty("explore").split(";");
        for (String c : cfgs) {
            String[] f = c.split(",");
            for (String dn : System.getProperty(
                            "defects",
                            "NONE,NOISE_ON_HALF_THE_COORDINATES,NOISE_HALVED,HALF_THE_STEPS_CHARGED,DIVIDED_BY_REALISED_BATCH_SIZE")
                    .split(",")) {
                AuditedRun.Defect d = AuditedRun.Defect.valueOf(dn);
                long t0 = System.nanoTime();
                AuditedRun.Settings s = new AuditedRun.Settings(
                        Integer.parseInt(f[0]),
                        Integer.parseInt(f[1]),
                        Integer.parseInt(f[2]),
                        Double.parseDouble(f[3]),
                        Integer.parseInt(f[4]),
                        false,
                        true,
                        f.length > 5 ? Long.parseLong(f[5]) : 1,
                        CanaryScore.parse(System.getProperty("score", "observed_likelihood_ratio")));
                AuditedRun.Outcome o = AuditedRun.run(s, d);
                System.out.printf(
                        "%s %s eps=%.3f sigma=%.3f lower=%.3f r=%d v=%d ceil=%.2f %.1fs%n",
                        c,
                        d,
                        o.claimedEpsilon(),
                        o.sigma(),
                        o.audit().epsilonLower(),
                        o.audit().guesses(),
                        o.audit().correct(),
                        o.ceiling(),
                        (System.nanoTime() - t0) * 1e-9);
            }
        }
    }
}
