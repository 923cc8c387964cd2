package org.dpsgd.model;

import java.util.Arrays;

/**
 * A trainable parameter: its name (torchvision/timm naming, so pretrained files map directly),
 * shape (PyTorch layout), kind and fan-in (for initialisation).
 */
public record ParamSpec(String name, int[] shape, Kind kind, int fanIn) {
    /** What a parameter is, which decides its initialisation and how backends lay it out. */
    public enum Kind {
        CONV_WEIGHT,
        LINEAR_WEIGHT,
        BIAS,
        NORM_WEIGHT,
        NORM_BIAS
    }

    public ParamSpec {
        shape = shape.clone();
    }

    /** Number of scalars in this parameter (product of its shape). */
    public int size() {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParamSpec p
                && p.name.equals(name)
                && Arrays.equals(p.shape, shape)
                && p.kind == kind
                && p.fanIn == fanIn;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
