package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.dpsgd.model.Network;

/** The Network IR lowered to functional NDArray ops over the model's parameter store, layer by layer through {@link LayerRules}. */
final class LoweredNetwork {
    private final List<Op> ops;
    private final boolean chain;

    LoweredNetwork(Network network, Lowering lowering) {
        this.ops = lowering.lower(network.layers());
        this.chain = GraphCuts.isChain(network);
    }

    /** Whether every path from the input to the output runs through each layer's output ({@link GraphCuts}). */
    boolean chain() {
        return chain;
    }

    /** Logits [N, classes] for inputs [N, C, H, W]. */
    NDArray forward(NDArray x, Tape tape) {
        NDArray y = Op.chain(ops, x, tape);
        return y.reshape(y.getShape().get(0), -1);
    }
}
