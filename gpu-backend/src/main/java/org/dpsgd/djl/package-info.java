/**
 * The DJL (PyTorch engine) backend for CPUs and CUDA GPUs, found through {@link org.dpsgd.djl.DjlBackendProvider}.
 * {@link org.dpsgd.djl.DjlTrainableModel} lowers the {@link org.dpsgd.model.Network} to functional NDArray ops and
 * computes the clipped gradient sum with a clipping strategy: the per-slot reference (micro-batches of one) or
 * book-keeping with mixed ghost norms (Bu et al.), one forward and one backward per call. Each layer type is one
 * {@code LayerRule} ({@code Conv2dRule}, {@code LinearRule}, {@code GroupNormRule}, ...: lowering,
 * per-sample norm and clipped-sum contribution), registered in {@code LayerRules}; the strategies know no
 * layer type.
 *
 * <p>Privacy rule: every strategy returns the same clipped sum as the batch-size-1 loop (per-sample gradient, scaled by
 * min(1, C/‖g‖), summed over real slots; padding contributes nothing); noise and accounting stay in {@code common}.
 */
package org.dpsgd.djl;
