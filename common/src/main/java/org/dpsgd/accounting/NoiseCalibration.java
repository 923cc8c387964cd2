package org.dpsgd.accounting;

/**
 * The smallest noise multiplier σ whose ε after {@code steps} Poisson-sampled Gaussian steps is at
 * most a target, found by bisection (ε is decreasing in σ). The returned σ is always the upper end
 * of the final bracket, so ε(σ) <= target holds for the returned value, never just approximately.
 */
public final class NoiseCalibration {
    /** Relative width of the final bracket: σ is at most this fraction above the exact threshold. */
    public static final double RELATIVE_TOLERANCE = 1e-3;

    static final double MIN_SIGMA = 1e-2;
    static final double MAX_SIGMA = 1e4;

    private NoiseCalibration() {}

    /** The calibrated σ and the ε it gives. */
    public record Result(double noiseMultiplier, double epsilon) {}

    /**
     * The smallest σ (within {@link #RELATIVE_TOLERANCE}) whose ε after {@code steps} steps at sampling rate
     * {@code samplingRate} in (0, 1] is at most {@code targetEpsilon} at {@code delta} in (0, 1), according to the
     * accountant {@code accountant}; the returned ε is that accountant's ε for the returned σ
     * (σ = 0.01 when even that meets the target). Throws IllegalArgumentException for out-of-range arguments or when
     * the target needs σ above 1e4.
     */
    public static Result calibrate(
            double targetEpsilon, double delta, double samplingRate, long steps, AccountantKind accountant) {
        if (!(targetEpsilon > 0) || Double.isInfinite(targetEpsilon)) {
            throw new IllegalArgumentException("target epsilon must be a finite number > 0, got " + targetEpsilon);
        }
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
        if (!(samplingRate > 0 && samplingRate <= 1))
            throw new IllegalArgumentException("sampling rate must be in (0, 1], got " + samplingRate);
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        // PLD evaluations are costly and PLD ε is close to (usually below) RDP ε: start the PLD
        // search at the RDP answer with small bracket steps. Correctness never depends on the guess.
        boolean seeded = accountant != AccountantKind.RDP;
        double guess = seeded
                ? calibrate(targetEpsilon, delta, samplingRate, steps, AccountantKind.RDP)
                        .noiseMultiplier()
                : 1.0;
        double factor = seeded ? 1.1 : 2.0;
        double hi = guess;
        double epsHi = eps(samplingRate, hi, steps, delta, accountant);
        double lo;
        if (epsHi > targetEpsilon) {
            do {
                lo = hi;
                hi *= factor;
                if (hi > MAX_SIGMA) {
                    throw new IllegalArgumentException(String.format(
                            "target ε=%s at δ=%s needs a noise multiplier above %s for q=%s over %d steps: raise the target or lower the steps",
                            targetEpsilon, delta, MAX_SIGMA, samplingRate, steps));
                }
                epsHi = eps(samplingRate, hi, steps, delta, accountant);
            } while (epsHi > targetEpsilon);
        } else {
            lo = hi / factor;
            double epsLo;
            while ((epsLo = eps(samplingRate, lo, steps, delta, accountant)) <= targetEpsilon) {
                hi = lo;
                epsHi = epsLo;
                lo /= factor;
                // Even σ = MIN_SIGMA meets the target: report it (safe, if not minimal).
                if (lo < MIN_SIGMA) return new Result(hi, epsHi);
            }
        }
        // Invariant: ε(lo) > target >= ε(hi) = epsHi.
        while ((hi - lo) > RELATIVE_TOLERANCE * hi) {
            double mid = 0.5 * (lo + hi);
            double epsMid = eps(samplingRate, mid, steps, delta, accountant);
            if (epsMid <= targetEpsilon) {
                hi = mid;
                epsHi = epsMid;
            } else {
                lo = mid;
            }
        }
        return new Result(hi, epsHi);
    }

    private static double eps(double q, double sigma, long steps, double delta, AccountantKind accountant) {
        return Accountants.epsilon(q, sigma, steps, delta, accountant);
    }
}
