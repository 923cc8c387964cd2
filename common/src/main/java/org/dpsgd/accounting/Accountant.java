package org.dpsgd.accounting;

import java.util.List;

/**
 * Composes {@link DpEvent}s and converts the result to (ε, δ). Implementations must never
 * understate ε: an underestimate is a privacy bug.
 */
public interface Accountant {
    /** "rdp" or "pld". */
    String name();

    /** Adds an event to the ledger. Throws IllegalArgumentException for events this accountant cannot handle. */
    void compose(DpEvent event);

    /** The smallest ε this accountant can certify at {@code delta} for everything composed so far. */
    double epsilon(double delta);

    /** Everything composed so far, in order (consecutive identical steps may be merged into SelfComposed). */
    List<DpEvent> ledger();
}
