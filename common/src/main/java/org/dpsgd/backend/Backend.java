package org.dpsgd.backend;

import java.util.Map;
import org.dpsgd.model.Network;

/** An opened backend on one device. */
public interface Backend extends AutoCloseable {
    String name();

    /** The device actually used, e.g. "cpu", "gpu:0", "ipu x16". */
    String device();

    /** Library versions for provenance (e.g. "djl" -> "0.36.0", "pytorch" -> "2.7.1"). */
    Map<String, String> versions();

    /** The batch layout this backend wants for the network (micro-batch size, accumulation, replicas). */
    BatchLayout layoutFor(Network network, BatchLayout requested);

    TrainableModel createModel(Network network, ModelOptions options);

    @Override
    void close();
}
