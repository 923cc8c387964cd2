package org.dpsgd.accounting;

import java.util.List;

/**
 * Numerical privacy-loss-distribution accountant for Poisson-sampled Gaussian steps (after
 * dp_accounting's PLDAccountant, add/remove-one adjacency). Each distinct (q, σ) gets a pessimistic
 * connect-the-dots PLD per adjacency direction; T repeats are one FFT power; distinct terms are
 * convolved. ε(δ) is the larger of the two directions. The ledger is evaluated lazily on
 * {@link #epsilon} and the composed PLD is cached until the next {@link #compose}.
 */
public final class PldAccountant implements Accountant {
    public static final String NAME = "pld";
    /** dp_accounting's default value_discretization_interval. */
    public static final double DEFAULT_DISCRETISATION = 1e-4;

    private final double discretisation;
    private final PrivacyLedger ledger = new PrivacyLedger();
    private PldPmf[] composed; // {remove, add}; null when stale

    /** A PLD accountant with dp_accounting's default loss grid spacing, {@link #DEFAULT_DISCRETISATION}. */
    public PldAccountant() {
        this(DEFAULT_DISCRETISATION);
    }

    /** @param discretisation the loss grid spacing; smaller is tighter and slower */
    public PldAccountant(double discretisation) {
        if (!(discretisation > 0 && discretisation <= 1)) {
            throw new IllegalArgumentException(
                    "PLD value discretisation interval must be in (0, 1], got " + discretisation + " (default 1e-4)");
        }
        this.discretisation = discretisation;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The loss grid spacing in nats: the ε this reports is pessimistic by at most about this much per distinct event. */
    public double discretisation() {
        return discretisation;
    }

    @Override
    public void compose(DpEvent event) {
        ledger.append(event);
        composed = null;
    }

    @Override
    public double epsilon(double delta) {
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
        PldPmf[] pld = composed();
        return Math.max(pld[0].epsilonForDelta(delta), pld[1].epsilonForDelta(delta));
    }

    /** δ(ε) of everything composed so far (the larger of the two directions). */
    public double delta(double epsilon) {
        PldPmf[] pld = composed();
        return Math.max(pld[0].deltaForEpsilon(epsilon), pld[1].deltaForEpsilon(epsilon));
    }

    private PldPmf[] composed() {
        try {
            return composeAll();
        } catch (ArithmeticException e) {
            // Index arithmetic overflows when the privacy loss spans more grid points than a long
            // holds (σ tiny): refuse, never return a wrong ε.
            throw new IllegalArgumentException(
                    "the PLD accountant cannot represent this ledger on its grid (" + discretisation
                            + "): the noise multiplier is far too small; use privacy.accountant: rdp",
                    e);
        }
    }

    private PldPmf[] composeAll() {
        if (composed == null) {
            PldPmf remove = PldPmf.identity(discretisation);
            PldPmf add = PldPmf.identity(discretisation);
            for (SampledGaussian term : SampledGaussian.flatten(ledger.events())) {
                SampledGaussianPld single =
                        new SampledGaussianPld(term.samplingRate(), term.noiseMultiplier(), discretisation);
                PldPmf r;
                PldPmf a;
                if (single.symmetric()) {
                    r = single.remove().selfCompose(term.count());
                    a = r;
                } else {
                    PldPmf[] both = PldPmf.selfComposeBoth(single.remove(), single.add(), term.count());
                    r = both[0];
                    a = both[1];
                }
                remove = remove.size() == 1 && remove.lowerIndex == 0 && remove.infinityMass == 0
                        ? r
                        : remove.compose(r);
                add = add.size() == 1 && add.lowerIndex == 0 && add.infinityMass == 0 ? a : add.compose(a);
            }
            composed = new PldPmf[] {remove, add};
        }
        return composed;
    }

    @Override
    public List<DpEvent> ledger() {
        return ledger.events();
    }
}
