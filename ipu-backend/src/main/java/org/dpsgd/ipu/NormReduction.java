package org.dpsgd.ipu;

import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;

/**
 * The limits the IPU graph's clip margin is proven under (native/include/dpsgd_ipu/ClipExpr.hpp):
 * each parameter tensor's per-sample sum of squares is reduced in two pieces of at most
 * {@link #MAX_TERMS} terms (a split n = a·b with a, b ≤ MAX_TERMS must exist), and at most
 * {@link #MAX_TENSORS} trainable tensors enter a norm. Checked by {@code dpsgd ipu plan} and at
 * start-up, so a network the margin does not cover is refused before compiling.
 */
final class NormReduction {
    static final int MAX_TERMS = 4096;
    static final int MAX_TENSORS = 4096;

    private NormReduction() {}

    /** Whether n elements split into n = a·b with a, b ≤ maxTerms (n ≤ maxTerms: one piece). */
    static boolean splittable(long n, int maxTerms) {
        if (n <= maxTerms) return true;
        for (long a = 2; a <= maxTerms; a++) {
            if (n % a == 0 && n / a <= maxTerms) return true;
        }
        return false;
    }

    /** Refuses a network whose tensors or tensor count the clip margin does not cover, naming the tensor. */
    static void check(Network network) {
        var ps = network.parameters();
        if (ps.size() > MAX_TENSORS) {
            throw new IllegalArgumentException(network.name() + " has " + ps.size()
                    + " parameter tensors; the IPU's clip margin covers at most " + MAX_TENSORS);
        }
        for (ParamSpec p : ps) {
            if (!splittable(p.size(), MAX_TERMS)) {
                throw new IllegalArgumentException("parameter " + p.name() + " has " + p.size()
                        + " elements, which cannot be reduced in two pieces of at most " + MAX_TERMS
                        + " terms as the IPU's clip margin requires; use backend djl for this network");
            }
        }
    }
}
