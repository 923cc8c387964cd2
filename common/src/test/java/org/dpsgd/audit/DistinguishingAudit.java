package org.dpsgd.audit;

import java.util.Arrays;
import org.apache.commons.statistics.distribution.BetaDistribution;
import org.dpsgd.audit.AuditedRun.Defect;
import org.dpsgd.audit.AuditedRun.Prepared;
import org.dpsgd.audit.AuditedRun.Settings;
import org.dpsgd.train.DpSgdTrainer;

/**
 * A classic multi-run distinguishing audit (Jagielski, Ullman &amp; Oprea 2020; Nasr et al. 2021), kept
 * independent of the one-run code it checks: many short runs, each on D (N examples) or on D ∪ {x}
 * by a fair coin, a threshold test on each run's output fixed before any run, and Clopper–Pearson
 * bounds on its false-positive and false-negative rates. If the mechanism is (ε, δ)-DP for adding x,
 * then FPR + e^ε·FNR ≥ 1 − δ and FNR + e^ε·FPR ≥ 1 − δ, so with both rates bounded above at
 * 97.5% each (95% together)
 * ε ≥ max(log((1 − δ − FNR⁺)/FPR⁺), log((1 − δ − FPR⁺)/FNR⁺)).
 *
 * <p>x is one Dirac gradient canary; the test statistic is the energy of the released noisy sum on
 * probe coordinates that neither x nor any example touches: Σ_t Σ_j g_{t,j}² in units of C. An
 * honest mechanism releases the same noise there whether x is in or not; a mechanism that divides by
 * the realised batch size L shrinks it by (N/L)² when x joins (q = 1: L = N or N + 1).
 */
final class DistinguishingAudit {
    /** The test statistic, fixed before the runs. */
    enum Statistic {
        /** Energy of the released noise on the probe coordinates; "in" when below the midpoint for L = N vs N + 1. */
        PROBE_ENERGY,
        /** x's own coordinate summed over the steps; "in" when above T/2 (the Dirac test an honest run must survive). */
        TARGET_SUM
    }

    /** What the runs showed. */
    record Result(
            int outRuns, int falsePositives, int inRuns, int falseNegatives, double epsilonLower, double claimed) {}

    private DistinguishingAudit() {}

    /**
     * Runs {@code runs} independent trainings of {@code s} (one canary, q = batch/N) with {@code defect}
     * planted, guessing "x is in" when the probe energy is below σ²·P·T·(N/(N + ½))², the midpoint of
     * the two worlds of the realised-batch-size bug, derived from the claimed σ only.
     */
    static Result run(Settings s, Defect defect, Statistic statistic, int runs, int probes) {
        if (s.canaries() != 1) throw new IllegalArgumentException("one target example x per run");
        if (s.batch() != s.n())
            throw new IllegalArgumentException("the thresholds assume q = 1 (x in every step): batch = N");
        int fp = 0, fn = 0, out = 0, in = 0;
        double claimed = Double.NaN;
        for (int i = 0; i < runs; i++) {
            Settings si = new Settings(
                    s.n(), s.batch(), s.steps(), s.epsilon(), 1, s.secure(), true, s.seed() * 100_003 + i, s.score());
            Prepared p = AuditedRun.prepare(si, defect, probes + 1);
            int target = p.canaries().coordinates()[0];
            int[] probe = Arrays.stream(AuditedRun.blankWeights(p.shape()))
                    .filter(c -> c != target)
                    .limit(probes)
                    .toArray();
            double energy = 0, targetSum = 0;
            try (DpSgdTrainer trainer = p.trainer()) {
                CanaryObserver observer = new CanaryObserver(
                        probe, trainer.mechanism(), p.config().optimizer(), CanaryScore.SUM);
                CanaryObserver own = new CanaryObserver(
                        new int[] {target}, trainer.mechanism(), p.config().optimizer(), CanaryScore.SUM);
                float[] before = trainer.parameters();
                while (trainer.canStep()) {
                    double lr = trainer.step().lr();
                    float[] after = trainer.parameters();
                    observer.observe(before, after, lr);
                    own.observe(before, after, lr);
                    before = after;
                    for (double g : observer.lastReleased()) energy += g * g;
                }
                targetSum = own.scores()[0];
                claimed = trainer.epsilon();
            }
            double n = s.n();
            double threshold = p.sigma() * p.sigma() * probe.length * s.steps() * Math.pow(n / (n + 0.5), 2);
            boolean guessIn = statistic == Statistic.PROBE_ENERGY ? energy < threshold : targetSum > 0.5 * s.steps();
            if (p.canaries().coins()[0]) {
                in++;
                if (!guessIn) fn++;
            } else {
                out++;
                if (guessIn) fp++;
            }
        }
        double fpr = upperBound(fp, out, 0.025);
        double fnr = upperBound(fn, in, 0.025);
        double eps = Math.max(0, Math.max(epsilon(fnr, fpr, AuditedRun.DELTA), epsilon(fpr, fnr, AuditedRun.DELTA)));
        return new Result(out, fp, in, fn, eps, claimed);
    }

    /** log((1 − δ − a)/b): the ε that rates a and b (upper bounds) prove; 0 when they prove nothing. */
    static double epsilon(double a, double b, double delta) {
        return 1 - delta - a > 0 ? Math.log((1 - delta - a) / b) : 0;
    }

    /** Clopper–Pearson: the rate p with P[Binomial(n, p) ≤ k] = α, an upper bound at confidence 1 − α. */
    static double upperBound(int k, int n, double alpha) {
        if (n == 0 || k >= n) return 1;
        return BetaDistribution.of(k + 1, n - k).inverseCumulativeProbability(1 - alpha);
    }
}
