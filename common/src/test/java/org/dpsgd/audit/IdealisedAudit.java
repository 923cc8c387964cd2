package org.dpsgd.audit;

import java.util.SplittableRandom;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.accounting.NoiseCalibration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a test: the idealised one-run audit behind docs/audit.md's "what settings catch which defect",
 * run only on request. Each canary's released values are simulated exactly as the mechanism makes
 * them along a Dirac coordinate (g_t = B_t + σ_true·Z_t, B_t ~ Bernoulli(q) for an IN canary, in units
 * of C), scored by the per-step likelihood ratio at σ_true (what the observed-noise score does) and
 * audited with {@link PrivacyAudit} and the default guess rule. ε from the library's RDP accountant.
 *
 * <p>{@code mvn -o -pl common test -Dtest=IdealisedAudit -Didealised="q,T,claimedEps,m,seeds;..." -Ddefect=NOISE_HALVED}
 * (defect: NOISE_HALVED: σ_true = σ/2; HALF_THE_STEPS_CHARGED: σ calibrated for T/2 steps, T run; NONE).
 * Options: {@code -Daccountant=pld} (default rdp), {@code -Dbound=fdp} (the f-DP bound instead of Steinke's) and {@code -Dks=0.005,0.01} (symmetric guesses
 * k₊ = k₋ = these fractions of m, Bonferroni over them, instead of the default rule).
 */
@EnabledIfSystemProperty(named = "idealised", matches = ".+")
class IdealisedAudit {
    private static final double DELTA = 1e-5;
    private static final AccountantKind ACCOUNTANT =
            AccountantKind.parse("-Daccountant", System.getProperty("accountant", "rdp"));

    @Test
    void explore() {
        String defect = System.getProperty("defect", "NOISE_HALVED");
        AuditBound bound = AuditBound.parse("-Dbound", System.getProperty("bound"));
        String ks = System.getProperty("ks");
        for (String c : System.getProperty("idealised").split(";")) {
            String[] f = c.split(",");
            double q = Double.parseDouble(f[0]);
            int steps = Integer.parseInt(f[1]);
            double claim = Double.parseDouble(f[2]);
            int m = Integer.parseInt(f[3]);
            int seeds = Integer.parseInt(f[4]);
            long charged = defect.equals("HALF_THE_STEPS_CHARGED") ? steps / 2 : steps;
            double sigma = NoiseCalibration.calibrate(claim, DELTA, q, charged, ACCOUNTANT)
                    .noiseMultiplier();
            double trueSigma = defect.equals("NOISE_HALVED") ? sigma / 2 : sigma;
            StringBuilder out = new StringBuilder();
            for (int seed = 1; seed <= seeds; seed++) {
                SplittableRandom rng = new SplittableRandom(seed * 7919L + m);
                boolean[] in = new boolean[m];
                double[] scores = new double[m];
                for (int k = 0; k < m; k++) {
                    in[k] = rng.nextBoolean();
                    double s = 0;
                    for (int t = 0; t < steps; t++) {
                        double g = trueSigma * rng.nextGaussian() + (in[k] && rng.nextDouble() < q ? 1 : 0);
                        s += CanaryScore.LIKELIHOOD_RATIO.term(g, q, trueSigma);
                    }
                    scores[k] = s;
                }
                AuditResult a = PrivacyAudit.audit(scores, in, rule(ks, m), DELTA, 0.95, bound);
                out.append(String.format(" %.2f(%d/%d)", a.epsilonLower(), a.correct(), a.guesses()));
            }
            System.out.printf(
                    "%s %s sigma=%.3f claimed=%.2f true=%.2f lower:%s%n",
                    defect, c, sigma, epsilon(q, sigma, charged), epsilon(q, trueSigma, steps), out);
        }
    }

    private static GuessRule rule(String ks, int m) {
        if (ks == null) return GuessRule.defaultFor(m);
        java.util.List<GuessRule.Fixed> c = new java.util.ArrayList<>();
        for (String f : ks.split(",")) {
            int k = (int) (m * Double.parseDouble(f));
            c.add(new GuessRule.Fixed(k, k));
        }
        return new GuessRule.Bonferroni(c);
    }

    private static double epsilon(double q, double sigma, long steps) {
        Accountant a = Accountants.create(ACCOUNTANT);
        a.compose(new DpEvent.SelfComposed(new DpEvent.PoissonSampled(q, new DpEvent.Gaussian(sigma)), steps));
        return a.epsilon(DELTA);
    }
}
