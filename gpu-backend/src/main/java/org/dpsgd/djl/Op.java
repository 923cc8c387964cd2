package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;

/** One lowered layer, made by its {@link LayerRule}: a function of NDArrays over a batch [N, C, H, W] (or [N, D] once flat). */
interface Op {
    NDArray forward(NDArray x, Tape tape);
}
