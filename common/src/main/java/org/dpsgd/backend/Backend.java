package org.dpsgd.backend;

import java.util.Map;
import org.dpsgd.model.Network;

/** An opened backend on one device. */
public interface Backend extends AutoCloseable {
    /** The provider's short name ("djl", "ipu"), as in {@link BackendProvider#name()}. */
    String name();

    /** The device actually used, e.g. "cpu", "gpu:0", "ipu x16". */
    String device();

    /**
     * True when the backend computes on the host CPU's cores (DJL on cpu). Work the host does beside
     * it, such as drawing the next step's noise in the background, then competes with it: measured
     * on a 2-core machine, prefetching noise on ordinary threads made resnet18-gn's private step 1.8-2.4x
     * the non-private one instead of 1.0-1.3x (session 3). There the noise is drawn ahead only at Linux's
     * idle priority ({@code org.dpsgd.noise.NoisePrefetch#IDLE}), on the cycles the step leaves idle.
     */
    default boolean computesOnHostCores() {
        return true;
    }

    /**
     * Hands memory the backend's allocator keeps for reuse but no array holds back to the operating
     * system (DJL: glibc's {@code malloc_trim}, since freed tensor memory is kept between steps). For
     * measurements of one model's peak memory after another's ran in the same process; a no-op by
     * default.
     */
    default void releaseFreeMemory() {}

    /** Library versions for provenance (e.g. "djl" -> "0.36.0", "pytorch" -> "2.7.1"). */
    Map<String, String> versions();

    /** The batch layout this backend wants for the network (micro-batch size, accumulation, replicas). */
    BatchLayout layoutFor(Network network, BatchLayout requested);

    /**
     * Builds {@code network} on this backend's device with the given strategy, layout, frozen parameters and settings;
     * the caller loads the initial parameters with {@link TrainableModel#writeParameters} and closes the model.
     */
    TrainableModel createModel(Network network, ModelOptions options);

    @Override
    void close();
}
