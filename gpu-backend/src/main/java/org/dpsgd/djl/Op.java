package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * One lowered layer, made by its {@link LayerRule}: a function of NDArrays over a batch [N, C, H, W] (or [N, D] once flat).
 * An op must not keep its input's handle past its call (the caller may close it, {@link #chain}): a tap keeps a
 * detached alias instead ({@link Tape#alias}).
 */
interface Op {
    NDArray forward(NDArray x, Tape tape);

    /**
     * Runs {@code ops} in order on {@code x}. Each intermediate's handle is closed as soon as the next op has
     * consumed it (never {@code x}, the caller's, nor the result): autograd keeps what its backward needs and
     * frees that when its node has run, where the step's scope would otherwise hold every activation to the end
     * of the step (issue 12 §3). Lifetimes only: no value changes.
     */
    static NDArray chain(List<Op> ops, NDArray x, Tape tape) {
        NDArray y = x;
        for (Op o : ops) {
            NDArray next = o.forward(y, tape);
            if (y != x && y != next) y.close();
            y = next;
        }
        return y;
    }
}
