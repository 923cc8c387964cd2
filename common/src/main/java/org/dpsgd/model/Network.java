package org.dpsgd.model;

import java.util.ArrayList;
import java.util.List;

/**
 * A model as backends receive it: the layer list, the per-sample input shape and the number of
 * classes. The flat parameter vector every backend exchanges with {@code common} is the
 * concatenation of {@link #parameters()} in this order, each in PyTorch (row-major) layout.
 */
public record Network(String name, Shape input, int numClasses, List<Layer> layers) {
    public Network {
        layers = List.copyOf(layers);
        Shape out = outputShape(layers, input);
        if (out.size() != numClasses) {
            throw new IllegalArgumentException(
                    name + ": network output " + out + " does not match " + numClasses + " classes");
        }
    }

    /** The per-sample shape {@code layers} produce from input shape {@code in}, validating each layer on the way. */
    public static Shape outputShape(List<Layer> layers, Shape in) {
        Shape s = in;
        for (Layer l : layers) s = l.outputShape(s);
        return s;
    }

    /** All parameters in the canonical order (depth first; a residual's main branch before its shortcut). */
    public List<ParamSpec> parameters() {
        List<ParamSpec> out = new ArrayList<>();
        collect(layers, out);
        return List.copyOf(out);
    }

    private static void collect(List<Layer> layers, List<ParamSpec> out) {
        for (Layer l : layers) {
            out.addAll(l.ownParameters());
            if (l instanceof Layer.Residual r) {
                collect(r.main(), out);
                collect(r.shortcut(), out);
            }
        }
    }

    /** Length of the flat parameter vector: the sum of {@link ParamSpec#size()} over {@link #parameters()}. */
    public long parameterCount() {
        long n = 0;
        for (ParamSpec p : parameters()) n += p.size();
        return n;
    }

    /** Offsets of each parameter in the flat vector, same order as {@link #parameters()}. */
    public int[] parameterOffsets() {
        List<ParamSpec> ps = parameters();
        int[] off = new int[ps.size()];
        long o = 0;
        for (int i = 0; i < ps.size(); i++) {
            off[i] = Math.toIntExact(o);
            o += ps.get(i).size();
        }
        return off;
    }
}
