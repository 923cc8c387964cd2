package org.dpsgd.djl;

import org.dpsgd.UserError;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;

/** One way of computing per-sample gradient norms and the clipped gradient sum. */
interface ClippingStrategy {
    /** A policy that clips nothing, for norm-only calls. */
    ClipPolicy MEASURE_ONLY = ClipPolicy.flat(Double.MAX_VALUE);

    /**
     * Computes per-slot gradient norms into {@code norms} (length = slots; masked slots 0) and, when
     * {@code accumulate}, adds the clipped sum of the real slots' gradients under {@code policy} to
     * the accumulators. A slot with a non-finite norm contributes exactly 0 and is counted in
     * {@link BatchStats#nonFinite()}.
     */
    BatchStats run(DeviceBatch batch, ClipPolicy policy, boolean accumulate, double[] norms);

    /** Names accepted in ModelOptions.strategy. */
    static ClippingStrategy create(String name, ModelRuntime rt) {
        return switch (name) {
            case "auto", "bookkeeping" -> new BookkeepingStrategy(rt);
            case "microbatch" -> new MicrobatchStrategy(rt);
            case "nonprivate" ->
                (b, c, acc, n) -> {
                    throw new UserError(
                            "strategy 'nonprivate' does not clip per-sample gradients; "
                                    + "it is only a speed baseline (accumulateUnclipped). Use auto, bookkeeping or microbatch for DP training.");
                };
            default ->
                throw new IllegalArgumentException("unknown clipping strategy '" + name
                        + "' for backend djl; choose auto, bookkeeping, microbatch or nonprivate");
        };
    }
}
