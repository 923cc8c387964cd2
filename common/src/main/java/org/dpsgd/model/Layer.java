package org.dpsgd.model;

import java.util.List;

/**
 * One node of the backend-neutral network description. Backends lower these to their own ops
 * (DJL NDArray ops, PopLibs programs). There is deliberately no BatchNorm: it mixes samples in a
 * batch, so a per-sample gradient no longer depends on one sample only and the DP guarantee breaks.
 */
public sealed interface Layer
        permits Layer.Conv2d,
                Layer.GroupNorm,
                Layer.Activation,
                Layer.MaxPool2d,
                Layer.GlobalAvgPool,
                Layer.Flatten,
                Layer.Linear,
                Layer.Residual {

    /** Output shape for a per-sample input shape (no batch axis). */
    Shape outputShape(Shape in);

    /** The trainable parameters this node owns directly (not those of nested nodes). */
    default List<ParamSpec> ownParameters() {
        return List.of();
    }

    /**
     * 2-D convolution, weight [out, in, k, k] (PyTorch layout), optional bias [out].
     * With {@code weightStandardized} the weight is standardised per output channel before use
     * (Qiao et al.; used by De et al. with GroupNorm).
     */
    record Conv2d(
            String name, int in, int out, int kernel, int stride, int padding, boolean bias, boolean weightStandardized)
            implements Layer {
        public Conv2d {
            Checks.positive(in, "conv in channels");
            Checks.positive(out, "conv out channels");
            Checks.positive(kernel, "conv kernel");
            Checks.positive(stride, "conv stride");
            if (padding < 0) throw new IllegalArgumentException("conv padding must be >= 0, got " + padding);
        }

        @Override
        public Shape outputShape(Shape s) {
            if (s.channels() != in) {
                throw new IllegalArgumentException(name + ": expects " + in + " input channels, got " + s);
            }
            int h = (s.height() + 2 * padding - kernel) / stride + 1;
            int w = (s.width() + 2 * padding - kernel) / stride + 1;
            if (h <= 0 || w <= 0)
                throw new IllegalArgumentException(name + ": input " + s + " too small for kernel " + kernel);
            return new Shape(out, h, w);
        }

        @Override
        public List<ParamSpec> ownParameters() {
            ParamSpec w = new ParamSpec(
                    name + ".weight",
                    new int[] {out, in, kernel, kernel},
                    ParamSpec.Kind.CONV_WEIGHT,
                    in * kernel * kernel);
            return bias
                    ? List.of(
                            w,
                            new ParamSpec(name + ".bias", new int[] {out}, ParamSpec.Kind.BIAS, in * kernel * kernel))
                    : List.of(w);
        }
    }

    /** GroupNorm over (C/G, H, W) per sample and group, then per-channel affine (weight [C], bias [C]). */
    record GroupNorm(String name, int channels, int groups, double eps) implements Layer {
        public GroupNorm {
            Checks.positive(groups, "group norm groups");
            if (channels % groups != 0) {
                throw new IllegalArgumentException(
                        name + ": " + channels + " channels are not divisible into " + groups + " groups");
            }
        }

        @Override
        public Shape outputShape(Shape s) {
            if (s.channels() != channels)
                throw new IllegalArgumentException(name + ": expects " + channels + " channels, got " + s);
            return s;
        }

        @Override
        public List<ParamSpec> ownParameters() {
            return List.of(
                    new ParamSpec(name + ".weight", new int[] {channels}, ParamSpec.Kind.NORM_WEIGHT, 0),
                    new ParamSpec(name + ".bias", new int[] {channels}, ParamSpec.Kind.NORM_BIAS, 0));
        }
    }

    /** The element-wise nonlinearities an {@link Activation} can apply. */
    enum ActivationKind {
        RELU,
        TANH
    }

    /** An element-wise nonlinearity; no parameters, shape unchanged. */
    record Activation(ActivationKind kind) implements Layer {
        @Override
        public Shape outputShape(Shape s) {
            return s;
        }
    }

    /** Max pooling over {@code kernel}² windows with the given stride and zero padding, per channel; no parameters. */
    record MaxPool2d(int kernel, int stride, int padding) implements Layer {
        @Override
        public Shape outputShape(Shape s) {
            int h = (s.height() + 2 * padding - kernel) / stride + 1;
            int w = (s.width() + 2 * padding - kernel) / stride + 1;
            if (h <= 0 || w <= 0) throw new IllegalArgumentException("max-pool: input " + s + " too small");
            return new Shape(s.channels(), h, w);
        }
    }

    /** Mean over H and W; output shape [C, 1, 1]. */
    record GlobalAvgPool() implements Layer {
        @Override
        public Shape outputShape(Shape s) {
            return new Shape(s.channels(), 1, 1);
        }
    }

    /** Flattens [C, H, W] to [C*H*W, 1, 1] (PyTorch's row-major order). */
    record Flatten() implements Layer {
        @Override
        public Shape outputShape(Shape s) {
            return new Shape(s.size(), 1, 1);
        }
    }

    /** Fully connected, weight [out, in] (PyTorch layout), optional bias [out]. Input must be flat. */
    record Linear(String name, int in, int out, boolean bias) implements Layer {
        @Override
        public Shape outputShape(Shape s) {
            if (s.size() != in || s.height() != 1 || s.width() != 1) {
                throw new IllegalArgumentException(name + ": expects a flat input of " + in + ", got " + s);
            }
            return new Shape(out, 1, 1);
        }

        @Override
        public List<ParamSpec> ownParameters() {
            ParamSpec w = new ParamSpec(name + ".weight", new int[] {out, in}, ParamSpec.Kind.LINEAR_WEIGHT, in);
            return bias
                    ? List.of(w, new ParamSpec(name + ".bias", new int[] {out}, ParamSpec.Kind.BIAS, in))
                    : List.of(w);
        }
    }

    /**
     * y = main(x) + shortcut(x); an empty shortcut is the identity. The activation after the sum is
     * the next layer in the enclosing list (as in torchvision's blocks).
     */
    record Residual(String name, List<Layer> main, List<Layer> shortcut) implements Layer {
        public Residual {
            main = List.copyOf(main);
            shortcut = List.copyOf(shortcut);
        }

        @Override
        public Shape outputShape(Shape s) {
            Shape a = Network.outputShape(main, s);
            Shape b = Network.outputShape(shortcut, s);
            if (!a.equals(b)) throw new IllegalArgumentException(name + ": branch shapes differ: " + a + " vs " + b);
            return a;
        }
    }
}
