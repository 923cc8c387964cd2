package org.dpsgd.cli;

import java.io.PrintWriter;
import org.dpsgd.accounting.AccountantKind;

/** Checks shared by the privacy subcommands; every message names the option and the fix. */
final class PrivacyArgs {
    private PrivacyArgs() {}

    static double delta(Double delta, Long datasetSize, PrintWriter err) {
        if (delta == null)
            throw new IllegalArgumentException(
                    "missing --delta D (e.g. 1e-5; keep it below 1/N for N training examples)");
        if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("--delta must be in (0, 1), got " + delta);
        if (datasetSize != null && delta >= 1.0 / datasetSize) {
            err.printf(
                    "warning: --delta %s is not below 1/N = %s: such a δ allows leaking a whole record; use δ < 1/N%n",
                    delta, 1.0 / datasetSize);
        }
        return delta;
    }

    static AccountantKind accountant(String name) {
        return AccountantKind.parse("--accountant", name);
    }

    static double noiseMultiplier(Double sigma) {
        if (sigma == null)
            throw new IllegalArgumentException(
                    "missing --noise-multiplier S (the noise std divided by the clipping norm)");
        if (!(sigma > 0) || Double.isInfinite(sigma))
            throw new IllegalArgumentException("--noise-multiplier must be a finite number > 0, got " + sigma);
        return sigma;
    }

    static double targetEpsilon(Double eps) {
        if (eps == null) throw new IllegalArgumentException("missing --target-epsilon E");
        if (!(eps > 0) || Double.isInfinite(eps))
            throw new IllegalArgumentException("--target-epsilon must be a finite number > 0, got " + eps);
        return eps;
    }
}
