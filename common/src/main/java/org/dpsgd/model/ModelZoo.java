package org.dpsgd.model;

import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Layer.Activation;
import org.dpsgd.model.Layer.ActivationKind;
import org.dpsgd.model.Layer.Conv2d;
import org.dpsgd.model.Layer.Flatten;
import org.dpsgd.model.Layer.GlobalAvgPool;
import org.dpsgd.model.Layer.GroupNorm;
import org.dpsgd.model.Layer.Linear;
import org.dpsgd.model.Layer.MaxPool2d;
import org.dpsgd.model.Layer.Residual;

/** The named models, expanded into {@link Network}s. Parameter names follow torchvision/timm. */
public final class ModelZoo {
    public static final List<String> NAMES =
            List.of("resnet18-gn", "resnet34-gn", "resnet50-gn", "wrn16-4", "fmnist-cnn", "small-cnn");

    private static final double EPS = 1e-5;

    private ModelZoo() {}

    /**
     * Expands {@code spec} into the layer list for inputs of shape {@code input} (per sample) and {@code numClasses}
     * output logits. Throws IllegalArgumentException when the input is too small for the architecture.
     */
    public static Network build(ModelSpec spec, Shape input, int numClasses) {
        return switch (spec.name()) {
            case "resnet18-gn" -> resnet(spec, input, numClasses, false, new int[] {2, 2, 2, 2});
            case "resnet34-gn" -> resnet(spec, input, numClasses, false, new int[] {3, 4, 6, 3});
            case "resnet50-gn" -> resnet(spec, input, numClasses, true, new int[] {3, 4, 6, 3});
            case "wrn16-4" -> wideResnet(spec, input, numClasses, 16, 4);
            case "fmnist-cnn" -> fmnistCnn(spec, input, numClasses);
            case "small-cnn" -> smallCnn(spec, input, numClasses);
            default -> throw new IllegalArgumentException("unknown model " + spec.name());
        };
    }

    private static int groupsFor(ModelSpec spec, int channels, int defaultMax) {
        int g = spec.groups() > 0 ? Math.min(spec.groups(), channels) : Math.min(defaultMax, channels);
        if (channels % g != 0) {
            throw new IllegalArgumentException(
                    "model.groups=" + spec.groups() + " does not divide " + channels + " channels");
        }
        return g;
    }

    private static Conv2d conv(ModelSpec spec, String name, int in, int out, int k, int stride, int pad) {
        return new Conv2d(name, in, out, k, stride, pad, false, spec.weightStandardization());
    }

    private static GroupNorm gn(ModelSpec spec, String name, int c, int defaultMax) {
        return new GroupNorm(name, c, groupsFor(spec, c, defaultMax), EPS);
    }

    private static Activation relu() {
        return new Activation(ActivationKind.RELU);
    }

    /** torchvision ResNet with every BatchNorm replaced by GroupNorm (names kept: bn1, downsample.1, ...). */
    static Network resnet(ModelSpec spec, Shape input, int classes, boolean bottleneck, int[] blocks) {
        List<Layer> ls = new ArrayList<>();
        int c = 64;
        if (spec.stem().equals("cifar")) {
            ls.add(conv(spec, "conv1", input.channels(), c, 3, 1, 1));
        } else {
            ls.add(conv(spec, "conv1", input.channels(), c, 7, 2, 3));
        }
        ls.add(gn(spec, "bn1", c, 32));
        ls.add(relu());
        if (!spec.stem().equals("cifar")) ls.add(new MaxPool2d(3, 2, 1));
        int expansion = bottleneck ? 4 : 1;
        int in = c;
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < 4; stage++) {
            int w = widths[stage];
            for (int b = 0; b < blocks[stage]; b++) {
                int stride = (stage > 0 && b == 0) ? 2 : 1;
                String p = "layer" + (stage + 1) + "." + b;
                List<Layer> main = new ArrayList<>();
                if (bottleneck) {
                    main.add(conv(spec, p + ".conv1", in, w, 1, 1, 0));
                    main.add(gn(spec, p + ".bn1", w, 32));
                    main.add(relu());
                    main.add(conv(spec, p + ".conv2", w, w, 3, stride, 1));
                    main.add(gn(spec, p + ".bn2", w, 32));
                    main.add(relu());
                    main.add(conv(spec, p + ".conv3", w, w * expansion, 1, 1, 0));
                    main.add(gn(spec, p + ".bn3", w * expansion, 32));
                } else {
                    main.add(conv(spec, p + ".conv1", in, w, 3, stride, 1));
                    main.add(gn(spec, p + ".bn1", w, 32));
                    main.add(relu());
                    main.add(conv(spec, p + ".conv2", w, w, 3, 1, 1));
                    main.add(gn(spec, p + ".bn2", w, 32));
                }
                List<Layer> shortcut = new ArrayList<>();
                if (stride != 1 || in != w * expansion) {
                    shortcut.add(conv(spec, p + ".downsample.0", in, w * expansion, 1, stride, 0));
                    shortcut.add(gn(spec, p + ".downsample.1", w * expansion, 32));
                }
                ls.add(new Residual(p, main, shortcut));
                ls.add(relu());
                in = w * expansion;
            }
        }
        ls.add(new GlobalAvgPool());
        ls.add(new Flatten());
        ls.add(new Linear("fc", in, classes, true));
        return new Network(spec.name(), input, classes, ls);
    }

    /**
     * Wide-ResNet-16-4 as used by De et al. for CIFAR-10, with GroupNorm (16 groups by default) and
     * optional weight standardisation. Post-activation basic blocks (conv-GN-ReLU-conv-GN + shortcut,
     * ReLU), a simplification of their pre-activation blocks with the same widths and depth.
     */
    static Network wideResnet(ModelSpec spec, Shape input, int classes, int depth, int k) {
        int n = (depth - 4) / 6;
        List<Layer> ls = new ArrayList<>();
        ls.add(conv(spec, "conv1", input.channels(), 16, 3, 1, 1));
        ls.add(gn(spec, "bn1", 16, 16));
        ls.add(relu());
        int in = 16;
        int[] widths = {16 * k, 32 * k, 64 * k};
        for (int stage = 0; stage < 3; stage++) {
            for (int b = 0; b < n; b++) {
                int stride = (stage > 0 && b == 0) ? 2 : 1;
                int w = widths[stage];
                String p = "layer" + (stage + 1) + "." + b;
                List<Layer> main = List.of(
                        conv(spec, p + ".conv1", in, w, 3, stride, 1),
                        gn(spec, p + ".bn1", w, 16),
                        relu(),
                        conv(spec, p + ".conv2", w, w, 3, 1, 1),
                        gn(spec, p + ".bn2", w, 16));
                List<Layer> sc = (stride != 1 || in != w)
                        ? List.of(
                                conv(spec, p + ".downsample.0", in, w, 1, stride, 0),
                                gn(spec, p + ".downsample.1", w, 16))
                        : List.of();
                ls.add(new Residual(p, main, sc));
                ls.add(relu());
                in = w;
            }
        }
        ls.add(new GlobalAvgPool());
        ls.add(new Flatten());
        ls.add(new Linear("fc", in, classes, true));
        return new Network(spec.name(), input, classes, ls);
    }

    /** Tramèr and Boneh's Fashion-MNIST CNN: conv 16@8x8 s2 p2, max-pool 2 s1, conv 32@4x4 s2, max-pool 2 s1, FC 32, FC; tanh. */
    static Network fmnistCnn(ModelSpec spec, Shape input, int classes) {
        List<Layer> ls = new ArrayList<>();
        Activation tanh = new Activation(ActivationKind.TANH);
        ls.add(new Conv2d("conv1", input.channels(), 16, 8, 2, 2, true, spec.weightStandardization()));
        ls.add(tanh);
        ls.add(new MaxPool2d(2, 1, 0));
        ls.add(new Conv2d("conv2", 16, 32, 4, 2, 0, true, spec.weightStandardization()));
        ls.add(tanh);
        ls.add(new MaxPool2d(2, 1, 0));
        ls.add(new Flatten());
        int flat = Network.outputShape(ls, input).size();
        ls.add(new Linear("fc1", flat, 32, true));
        ls.add(tanh);
        ls.add(new Linear("fc2", 32, classes, true));
        return new Network(spec.name(), input, classes, ls);
    }

    /** conv 16@3x3 p1, GN, ReLU, max-pool 2, conv 32@3x3 p1, GN, ReLU, max-pool 2, FC. */
    static Network smallCnn(ModelSpec spec, Shape input, int classes) {
        List<Layer> ls = new ArrayList<>();
        ls.add(new Conv2d("conv1", input.channels(), 16, 3, 1, 1, true, spec.weightStandardization()));
        ls.add(gn(spec, "gn1", 16, 4));
        ls.add(relu());
        ls.add(new MaxPool2d(2, 2, 0));
        ls.add(new Conv2d("conv2", 16, 32, 3, 1, 1, true, spec.weightStandardization()));
        ls.add(gn(spec, "gn2", 32, 8));
        ls.add(relu());
        ls.add(new MaxPool2d(2, 2, 0));
        ls.add(new Flatten());
        int flat = Network.outputShape(ls, input).size();
        ls.add(new Linear("fc", flat, classes, true));
        return new Network(spec.name(), input, classes, ls);
    }
}
