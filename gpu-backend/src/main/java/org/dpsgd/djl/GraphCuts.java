package org.dpsgd.djl;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;

/**
 * Whether the book-keeping forward pass cuts its autograd graph at each tapped layer output after the
 * first ({@link Tape#withLeaf}) instead of adding a zero leaf there (issue 12 §1, session 11). A cut
 * makes the layer's output y a detached leaf for the ops after it, and the backward pass runs in
 * segments, last first: the loss back to the last cut's leaf, then from each cut's y with that leaf's
 * gradient ({@link Tape#backwardThroughCuts}). The gradients that reach every leaf and every op are the
 * same tensors as with the zero leaf (same values, bit for bit: {@code GraphCutsTest}); the zero-leaf add
 * over y and the copy of y's gradient into that leaf are saved.
 *
 * <p>Only where every path from the network's input to the loss runs through each tapped output: a
 * chain of layers, none of which forks. A residual block's shortcut reaches the layers before a cut
 * inside the block without passing through it, so segment k's backward would have to revisit the
 * earlier segments (and fail without a kept graph). So the rule is conservative: cuts only when every
 * layer of the network is one of the single-path types listed here; any other type (a residual block,
 * or a layer type added later) keeps the zero leaves.
 */
final class GraphCuts {
    private GraphCuts() {}

    /** The layer types whose op maps one tensor to one tensor with no path around it (a residual does not). */
    private static final Set<Class<? extends Layer>> SINGLE_PATH = Set.of(
            Layer.Conv2d.class,
            Layer.Linear.class,
            Layer.GroupNorm.class,
            Layer.Activation.class,
            Layer.MaxPool2d.class,
            Layer.GlobalAvgPool.class,
            Layer.Flatten.class);

    /** Whether {@code layers}, run in order, form a chain: every layer one of the single-path types. */
    static boolean isChain(List<Layer> layers) {
        for (Layer l : layers) if (!SINGLE_PATH.contains(l.getClass())) return false;
        return true;
    }

    /** Whether {@code network} is a chain ({@link #isChain(List)}). */
    static boolean isChain(Network network) {
        return isChain(network.layers());
    }

    // The setting's default; -Ddpsgd.graph_cuts=never turns cuts off for a process without a setting (A/B runs).
    private static final String DEFAULT = System.getProperty("dpsgd.graph_cuts", "auto");

    /**
     * The backend setting {@code graph_cuts}: {@code auto} (the default: cut chains) or {@code never}
     * (zero leaves everywhere, as before session 11; same bits).
     */
    static boolean enabled(BackendOptions options) {
        String s = options.setting("graph_cuts", DEFAULT).trim().toLowerCase(Locale.ROOT);
        if (!s.equals("auto") && !s.equals("never"))
            throw new IllegalArgumentException("backend setting graph_cuts must be auto or never, got '" + s + "'");
        return s.equals("auto");
    }

    /** For provenance: what the setting does. */
    static String describe(boolean setting) {
        return setting
                ? "at tapped outputs of chain networks, zero leaves elsewhere (graph_cuts=auto)"
                : "zero leaves (graph_cuts=never)";
    }
}
