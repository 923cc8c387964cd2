package org.dpsgd.accounting;

import java.util.Arrays;
import java.util.List;

/** The accountants by name, and ε of a plain DP-SGD run in one call. */
public final class Accountants {
    private static final List<String> NAMES = Arrays.stream(AccountantKind.values())
            .map(AccountantKind::configName)
            .toList();

    private Accountants() {}

    /** "rdp" and "pld". */
    public static List<String> names() {
        return NAMES;
    }

    /** A fresh accountant of {@code kind} with default settings. */
    public static Accountant create(AccountantKind kind) {
        return switch (kind) {
            case RDP -> new RdpAccountant();
            case PLD -> new PldAccountant();
        };
    }

    /** A fresh accountant that has replayed {@code ledger} (for resumed runs). */
    public static Accountant restore(AccountantKind kind, PrivacyLedger ledger) {
        Accountant a = create(kind);
        ledger.replayInto(a);
        return a;
    }

    /** ε after {@code steps} DP-SGD steps with sampling rate q and noise multiplier σ, at δ. */
    public static double epsilon(
            double samplingRate, double noiseMultiplier, long steps, double delta, AccountantKind accountant) {
        if (steps < 0) throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        Accountant a = create(accountant);
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(samplingRate, noiseMultiplier), steps));
        return a.epsilon(delta);
    }
}
