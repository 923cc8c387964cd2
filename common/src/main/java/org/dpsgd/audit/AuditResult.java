package org.dpsgd.audit;

/**
 * The outcome of a one-run audit: with probability at least {@code confidence} over the canaries'
 * coins, the mechanism is NOT (ε, δ)-DP for any ε below {@link #epsilonLower()}. A lower bound,
 * never a proof of privacy.
 *
 * @param canaries m
 * @param guesses r = k₊ + k₋ of the rule that gave the bound
 * @param correct v, the right guesses among them
 * @param kPlus IN guesses (top scores)
 * @param kMinus OUT guesses (bottom scores)
 * @param epsilonLower the audited lower bound on ε (0 when the guesses prove nothing)
 * @param confidence 1 − significance
 * @param delta the δ the bound is stated at
 * @param candidates how many (k₊, k₋) rules the significance was split over (Bonferroni)
 * @param bound the bound that turned (m, r, v) into ε_lower
 */
public record AuditResult(
        int canaries,
        int guesses,
        int correct,
        int kPlus,
        int kMinus,
        double epsilonLower,
        double confidence,
        double delta,
        int candidates,
        AuditBound bound) {}
