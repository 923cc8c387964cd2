package org.dpsgd.djl;

import org.dpsgd.model.Layer;

/**
 * Everything the DJL backend knows about one {@link Layer} type, in one place: how a layer of that
 * type lowers to NDArray ops and, for a layer with trainable parameters, what its op records on the
 * {@link Tape} during a book-keeping forward pass, a {@link Tap} that computes the layer's per-sample
 * squared norms and its share of the clipped sum. One implementation per layer type, each listed
 * once in {@link LayerRules}; adding a layer type (or a new way of taking a layer's norm) touches
 * that rule's file and, for a new type, one line of the table.
 *
 * @param <L> the {@link Layer} record this rule lowers
 */
interface LayerRule<L extends Layer> {
    /** The record type this rule handles: the key of {@link LayerRules}. */
    Class<L> layerType();

    /** The op computing {@code layer} over a batch, reading its parameters from {@code lowering.store()}. */
    Op lower(L layer, Lowering lowering);
}
