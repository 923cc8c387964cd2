package org.dpsgd.audit;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The bound of Steinke, Nasr &amp; Jagielski, <i>Privacy Auditing with One (1) Training Run</i>
 * (NeurIPS 2023, arXiv 2305.08846), usable on its own: give it scores and coins from anywhere.
 *
 * <p>m canaries are each included with probability ½; the auditor guesses r of them and gets v
 * right. If the mechanism is (ε, δ)-DP, Theorem 3.1 bounds the chance of v or more right guesses:
 * <pre>
 *   P[W ≥ v] ≤ β + 2mδ·α,   β = P[Binomial(r, p) ≥ v],   p = e^ε / (1 + e^ε),
 *   α = max_{i = 1..v} P[v − i ≤ Binomial(r, p) &lt; v] / i
 * </pre>
 * (the paper's Algorithm in Appendix D). ε_lower is the largest ε at which that p-value is still
 * below the significance 1 − confidence: every ε below it is rejected at that confidence.
 */
public final class PrivacyAudit {
    private PrivacyAudit() {}

    /** The paper's p-value: an upper bound on P[≥ v right of r guesses] for any (ε, δ)-DP mechanism. */
    public static double pValue(int m, int r, int v, double epsilon, double delta) {
        checkCounts(m, r, v);
        if (!(epsilon >= 0) || Double.isInfinite(epsilon))
            throw new IllegalArgumentException("ε must be finite and >= 0, got " + epsilon);
        checkDelta(delta);
        if (v == 0) return 1;
        BinomialTail b = new BinomialTail(r, 1 / (1 + Math.exp(-epsilon)));
        double beta = b.atLeast(v);
        double alpha = 0;
        double between = 0; // P[v − i ≤ Binomial < v]
        for (int i = 1; i <= v; i++) {
            between += b.pmf(v - i);
            alpha = Math.max(alpha, between / i);
        }
        return Math.min(beta + 2 * m * delta * alpha, 1);
    }

    /**
     * The largest ε whose p-value stays below 1 − {@code confidence}, by bisection to 1e-9 (rounded
     * down, so the bound is never overstated by the search); 0 when even ε = 0 is not rejected.
     */
    public static double epsilonLowerBound(int m, int r, int v, double delta, double confidence) {
        checkConfidence(confidence);
        double significance = 1 - confidence;
        if (pValue(m, r, v, 0, delta) >= significance) return 0;
        double lo = 0, hi = 1;
        while (pValue(m, r, v, hi, delta) < significance) {
            lo = hi;
            hi *= 2;
            if (hi > 1e4) return lo; // unreachable for r >= 1: p(ε) → 1 as ε → ∞ when v <= r
        }
        while (hi - lo > 1e-9) {
            double mid = 0.5 * (lo + hi);
            if (pValue(m, r, v, mid, delta) < significance) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    /**
     * The most any audit with m canaries can show: every canary guessed (r = m) and every guess
     * right. About 5.78 for m = 1000 and 7.28 for m = 5000 at δ = 1e-5 and 95%.
     */
    public static double ceiling(int m, double delta, double confidence) {
        return epsilonLowerBound(m, m, m, delta, confidence);
    }

    /** The ceiling under {@code rule}: the best of its candidates with every guess right, at its corrected significance. */
    public static double ceiling(int m, GuessRule rule, double delta, double confidence) {
        return ceiling(m, rule, delta, confidence, AuditBound.STEINKE);
    }

    /** {@link #ceiling(int, GuessRule, double, double)} under {@code bound}. */
    public static double ceiling(int m, GuessRule rule, double delta, double confidence, AuditBound bound) {
        double corrected = correctedConfidence(rule, confidence);
        double best = 0;
        for (GuessRule.Fixed k : rule.candidates()) {
            if (k.guesses() > m) continue;
            best = Math.max(best, bound.epsilonLowerBound(m, k.guesses(), k.guesses(), delta, corrected));
        }
        return best;
    }

    /**
     * Audits from scores and coins: guesses by {@code rule} (ties broken by canary index, which is
     * independent of the coins), counts the right guesses and returns the best bound.
     *
     * @param scores one per canary; higher means "more likely IN"
     * @param in     the canaries' coins (true = included)
     */
    public static AuditResult audit(double[] scores, boolean[] in, GuessRule rule, double delta, double confidence) {
        return audit(scores, in, rule, delta, confidence, AuditBound.STEINKE);
    }

    /**
     * {@link #audit(double[], boolean[], GuessRule, double, double)} with the given bound (the same
     * guesses and right-guess counts; only the map from (m, r, v) to ε_lower differs).
     */
    public static AuditResult audit(
            double[] scores, boolean[] in, GuessRule rule, double delta, double confidence, AuditBound bound) {
        if (scores.length != in.length)
            throw new IllegalArgumentException(scores.length + " scores but " + in.length + " coins");
        int m = scores.length;
        if (m < 2) throw new IllegalArgumentException("an audit needs at least 2 canaries, got " + m);
        for (double s : scores)
            if (Double.isNaN(s))
                throw new IllegalArgumentException("a canary score is NaN; the run's updates are not finite");
        Integer[] order = IntStream.range(0, m).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i));
        double corrected = correctedConfidence(rule, confidence);
        AuditResult best = null;
        for (GuessRule.Fixed k : rule.candidates()) {
            if (k.guesses() > m) {
                throw new IllegalArgumentException("the guess rule asks for " + k.guesses() + " guesses (k₊="
                        + k.kPlus() + ", k₋=" + k.kMinus() + ") but there are only " + m + " canaries");
            }
            int v = 0;
            for (int j = 0; j < k.kPlus(); j++) if (in[order[j]]) v++;
            for (int j = m - k.kMinus(); j < m; j++) if (!in[order[j]]) v++;
            double eps = bound.epsilonLowerBound(m, k.guesses(), v, delta, corrected);
            if (best == null || eps > best.epsilonLower()) {
                best = new AuditResult(
                        m,
                        k.guesses(),
                        v,
                        k.kPlus(),
                        k.kMinus(),
                        eps,
                        confidence,
                        delta,
                        rule.candidates().size(),
                        bound);
            }
        }
        return best;
    }

    private static double correctedConfidence(GuessRule rule, double confidence) {
        checkConfidence(confidence);
        return 1 - (1 - confidence) / rule.candidates().size();
    }

    private static void checkCounts(int m, int r, int v) {
        if (!(0 <= v && v <= r && r <= m)) {
            throw new IllegalArgumentException(
                    "need 0 <= v <= r <= m (right guesses, guesses, canaries), got v=" + v + ", r=" + r + ", m=" + m);
        }
    }

    private static void checkDelta(double delta) {
        if (!(delta >= 0 && delta < 1)) throw new IllegalArgumentException("δ must be in [0, 1), got " + delta);
    }

    private static void checkConfidence(double confidence) {
        if (!(confidence > 0 && confidence < 1))
            throw new IllegalArgumentException("confidence must be in (0, 1), e.g. 0.95; got " + confidence);
    }
}
