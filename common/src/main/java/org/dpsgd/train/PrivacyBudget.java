package org.dpsgd.train;

import java.util.List;
import java.util.function.Supplier;
import org.dpsgd.UserError;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.accounting.LedgerSink;
import org.dpsgd.accounting.PrivacyLedger;

/**
 * What a run has spent and may still spend. {@link #charge} is write-ahead: the step's event goes
 * to the durable {@link LedgerSink} first and into the accountant second, and the trainer calls it
 * before the step's noisy gradient exists, so no crash can release a step that was not charged.
 * Steps a crash forces a resumed run to repeat are charged again: ε only ever grows.
 *
 * <p>With a target ε, {@link #allowsAnother} is false when one more step would exceed it, checked
 * on fresh accountants before the step, never after.
 */
public final class PrivacyBudget {
    private final Supplier<Accountant> accountants;
    private final Accountant accountant;
    private final LedgerSink sink;
    private final DpEvent stepEvent;
    private final double delta;
    private final Double targetEpsilon;
    private long charged;
    private long allowedMore = -1; // steps the target still allows, from the current ledger; -1 = not computed

    /**
     * A budget charging {@code stepEvent} per step to {@code sink} (null: in memory only) and to an accountant from
     * {@code accountants}, which must give fresh, empty accountants. ε is reported at {@code delta}; with
     * {@code targetEpsilon} non-null, no step is allowed that would take ε above it.
     */
    public PrivacyBudget(
            Supplier<Accountant> accountants, LedgerSink sink, DpEvent stepEvent, double delta, Double targetEpsilon) {
        if (accountants == null) throw new IllegalArgumentException("a private run needs an accountant factory");
        this.accountants = accountants;
        this.accountant = accountants.get();
        if (!accountant.ledger().isEmpty())
            throw new IllegalArgumentException("the accountant factory must give fresh accountants");
        this.sink = sink == null ? LedgerSink.IN_MEMORY : sink;
        this.stepEvent = stepEvent;
        this.delta = delta;
        this.targetEpsilon = targetEpsilon;
    }

    /** Replays events already charged by an earlier process of the same run (before any new step). */
    public void resumeFrom(List<DpEvent> chargedEarlier) {
        if (charged != 0 || !accountant.ledger().isEmpty())
            throw new IllegalStateException("resume into a fresh budget");
        // Merged first (consecutive equal steps become one SelfComposed event): composing 100k single steps is slow.
        PrivacyLedger merged = new PrivacyLedger();
        chargedEarlier.forEach(merged::append);
        merged.events().forEach(accountant::compose);
        charged += PrivacyLedger.stepCount(merged.events());
        allowedMore = -1;
    }

    /** True unless a target ε is set and one more step would exceed it. */
    public boolean allowsAnother() {
        if (targetEpsilon == null) return true;
        if (allowedMore < 0) allowedMore = stepsWithinTarget();
        return allowedMore > 0;
    }

    /** Durably records one step's event, then composes it. Call before computing anything the step releases. */
    public void charge() {
        if (!allowsAnother()) {
            throw new UserError("privacy budget: one more step would reach ε=" + epsilonWithMore(1) + " > target "
                    + targetEpsilon + " (δ=" + delta + ")");
        }
        sink.record(stepEvent);
        accountant.compose(stepEvent);
        charged++;
        if (allowedMore > 0) allowedMore--;
    }

    /** ε of everything charged so far, at the run's δ. */
    public double epsilon() {
        return accountant.epsilon(delta);
    }

    /** ε of a copy of the ledger as it is now, recomputed later on a fresh accountant. */
    public Supplier<Double> epsilonNowLater() {
        List<DpEvent> then = accountant.ledger();
        return () -> {
            Accountant a = accountants.get();
            then.forEach(a::compose);
            return a.epsilon(delta);
        };
    }

    /** Steps charged so far, repeated ones included. */
    public long charged() {
        return charged;
    }

    /** Every event charged so far, oldest first, repeated steps of a resumed run included. */
    public List<DpEvent> ledger() {
        return accountant.ledger();
    }

    /** The δ at which ε is reported and the target is checked. */
    public double delta() {
        return delta;
    }

    /** The ε the run may not exceed, or null when it only runs its planned steps. */
    public Double targetEpsilon() {
        return targetEpsilon;
    }

    /** The accountant holding every charged event. */
    public Accountant accountant() {
        return accountant;
    }

    /** The most further steps whose ε stays within the target, by bisection over fresh accountants (ε grows with the count). */
    private long stepsWithinTarget() {
        if (epsilonWithMore(1) > targetEpsilon) return 0;
        long lo = 1;
        long hi = 1;
        while (epsilonWithMore(hi) <= targetEpsilon) {
            lo = hi;
            if (hi > (1L << 40)) return hi;
            hi *= 2;
        }
        while (hi - lo > 1) {
            long mid = lo + (hi - lo) / 2;
            if (epsilonWithMore(mid) <= targetEpsilon) lo = mid;
            else hi = mid;
        }
        return lo;
    }

    private double epsilonWithMore(long more) {
        Accountant whatIf = accountants.get();
        for (DpEvent e : accountant.ledger()) whatIf.compose(e);
        whatIf.compose(new DpEvent.SelfComposed(stepEvent, more));
        return whatIf.epsilon(delta);
    }
}
