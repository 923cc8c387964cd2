package org.dpsgd.djl;

import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;

/** One way of computing per-sample gradient norms and the clipped gradient sum. */
interface ClippingStrategy {
    /**
     * Computes per-slot gradient norms into {@code norms} (length = slots; masked slots 0) and, when
     * {@code accumulate}, adds the clipped sum of the real slots' gradients to the accumulators.
     */
    BatchStats run(DeviceBatch batch, double clipNorm, boolean accumulate, double[] norms);

    /** Clip factor min(1, C/‖g‖); a non-finite norm is refused rather than let through. */
    static double factor(int slot, double norm, double clipNorm) {
        if (!Double.isFinite(norm)) {
            throw new IllegalStateException("per-sample gradient norm of slot " + slot + " is " + norm
                    + " (diverged training?); lower the learning rate or check the inputs");
        }
        return norm > clipNorm ? clipNorm / norm : 1.0;
    }

    /** Names accepted in ModelOptions.strategy. */
    static ClippingStrategy create(String name, ModelRuntime rt) {
        return switch (name) {
            case "auto", "bookkeeping" -> new BookkeepingStrategy(rt);
            case "microbatch" -> new MicrobatchStrategy(rt);
            case "nonprivate" -> (b, c, acc, n) -> {
                throw new IllegalStateException("strategy 'nonprivate' does not clip per-sample gradients; "
                        + "it is only a speed baseline (accumulateUnclipped). Use auto, bookkeeping or microbatch for DP training.");
            };
            default -> throw new IllegalArgumentException("unknown clipping strategy '" + name
                    + "' for backend djl; choose auto, bookkeeping, microbatch or nonprivate");
        };
    }
}
