package org.dpsgd.ipu;

import java.util.List;
import java.util.Locale;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;

/**
 * Serialises a {@link Network} into the line-based text the native IPU library parses
 * (native/src/NetworkSpec.cpp; format in docs/ipu.md). One layer per line, tokens separated by
 * single spaces, residual blocks nested as {@code residual NAME / main / ... / shortcut / ... / end}.
 * The trailer {@code params N} lets the reader check it derived the same parameter count.
 */
public final class NetworkSpecWriter {
    public static final String HEADER = "dpsgd-network v1";

    private NetworkSpecWriter() {}

    public static String write(Network net) {
        StringBuilder sb = new StringBuilder();
        sb.append(HEADER).append('\n');
        sb.append("name ").append(token(net.name())).append('\n');
        sb.append("input ")
                .append(net.input().channels())
                .append(' ')
                .append(net.input().height())
                .append(' ')
                .append(net.input().width())
                .append('\n');
        sb.append("classes ").append(net.numClasses()).append('\n');
        writeLayers(net.layers(), sb);
        sb.append("params ").append(net.parameterCount()).append('\n');
        return sb.toString();
    }

    private static void writeLayers(List<Layer> layers, StringBuilder sb) {
        for (Layer l : layers) {
            if (l instanceof Layer.Conv2d c) {
                sb.append(String.format(
                        Locale.ROOT,
                        "conv %s %d %d %d %d %d %d %d\n",
                        token(c.name()),
                        c.in(),
                        c.out(),
                        c.kernel(),
                        c.stride(),
                        c.padding(),
                        c.bias() ? 1 : 0,
                        c.weightStandardized() ? 1 : 0));
            } else if (l instanceof Layer.GroupNorm g) {
                sb.append(String.format(
                        Locale.ROOT,
                        "groupnorm %s %d %d %s\n",
                        token(g.name()),
                        g.channels(),
                        g.groups(),
                        Double.toString(g.eps())));
            } else if (l instanceof Layer.Activation a) {
                sb.append(a.kind().name().toLowerCase(Locale.ROOT)).append('\n');
            } else if (l instanceof Layer.MaxPool2d p) {
                sb.append(String.format(Locale.ROOT, "maxpool %d %d %d\n", p.kernel(), p.stride(), p.padding()));
            } else if (l instanceof Layer.GlobalAvgPool) {
                sb.append("globalavgpool\n");
            } else if (l instanceof Layer.Flatten) {
                sb.append("flatten\n");
            } else if (l instanceof Layer.Linear lin) {
                sb.append(String.format(
                        Locale.ROOT,
                        "linear %s %d %d %d\n",
                        token(lin.name()),
                        lin.in(),
                        lin.out(),
                        lin.bias() ? 1 : 0));
            } else if (l instanceof Layer.Residual r) {
                sb.append("residual ").append(token(r.name())).append('\n');
                sb.append("main\n");
                writeLayers(r.main(), sb);
                sb.append("shortcut\n");
                writeLayers(r.shortcut(), sb);
                sb.append("end\n");
            } else {
                throw new IllegalArgumentException("the IPU backend cannot lower layer " + l);
            }
        }
    }

    /** Names become single tokens; a name with whitespace would split the line, so it is refused. */
    private static String token(String name) {
        if (name == null || name.isEmpty() || name.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("layer/network name '" + name
                    + "' cannot be sent to the IPU: names must be non-empty " + "and contain no whitespace");
        }
        return name;
    }
}
