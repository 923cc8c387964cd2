package org.dpsgd.accounting;

import java.util.List;

/** The accountants by name, and ε of a plain DP-SGD run in one call. */
public final class Accountants {
    private static final List<String> NAMES = List.of(RdpAccountant.NAME, PldAccountant.NAME);

    private Accountants() {}

    /** "rdp" and "pld". */
    public static List<String> names() {
        return NAMES;
    }

    /** A fresh accountant with default settings. */
    public static Accountant create(String name) {
        if (RdpAccountant.NAME.equals(name)) return new RdpAccountant();
        if (PldAccountant.NAME.equals(name)) return new PldAccountant();
        throw new IllegalArgumentException("unknown accountant '" + name + "': use one of " + NAMES);
    }

    /** A fresh accountant that has replayed {@code ledger} (for resumed runs). */
    public static Accountant restore(String name, PrivacyLedger ledger) {
        Accountant a = create(name);
        ledger.replayInto(a);
        return a;
    }

    /** ε after {@code steps} DP-SGD steps with sampling rate q and noise multiplier σ, at δ. */
    public static double epsilon(
            double samplingRate, double noiseMultiplier, long steps, double delta, String accountant) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        Accountant a = create(accountant);
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(samplingRate, noiseMultiplier), steps));
        return a.epsilon(delta);
    }
}
