package org.dpsgd.optim;

import java.util.ArrayList;
import java.util.List;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;

/**
 * Which coordinates of the flat parameter vector are trained, as sorted disjoint [from, to)
 * ranges (whole parameters, so there are few). Frozen coordinates get no noise and are never
 * updated, not even by weight decay.
 */
public final class TrainableMask {
    private final int size;
    private final int[] from;
    private final int[] to;

    private TrainableMask(int size, int[] from, int[] to) {
        this.size = size;
        this.from = from;
        this.to = to;
    }

    /** Every one of {@code size} coordinates trained (nothing frozen). */
    public static TrainableMask all(int size) {
        return size == 0
                ? new TrainableMask(0, new int[0], new int[0])
                : new TrainableMask(size, new int[] {0}, new int[] {size});
    }

    /** Freezes every parameter whose name starts with one of {@code frozenPrefixes}. */
    public static TrainableMask of(Network network, List<String> frozenPrefixes) {
        List<ParamSpec> ps = network.parameters();
        int[] off = network.parameterOffsets();
        List<int[]> ranges = new ArrayList<>();
        int total = Math.toIntExact(network.parameterCount());
        for (String prefix : frozenPrefixes) {
            if (ps.stream().noneMatch(p -> p.name().startsWith(prefix))) {
                throw new IllegalArgumentException("frozen prefix '" + prefix + "' matches no parameter of "
                        + network.name() + " (first parameters: "
                        + ps.subList(0, Math.min(5, ps.size())).stream()
                                .map(ParamSpec::name)
                                .toList() + ")");
            }
        }
        for (int i = 0; i < ps.size(); i++) {
            String name = ps.get(i).name();
            if (frozenPrefixes.stream().anyMatch(name::startsWith)) continue;
            int a = off[i], b = off[i] + ps.get(i).size();
            if (!ranges.isEmpty() && ranges.get(ranges.size() - 1)[1] == a) ranges.get(ranges.size() - 1)[1] = b;
            else ranges.add(new int[] {a, b});
        }
        int[] f = new int[ranges.size()], t = new int[ranges.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = ranges.get(i)[0];
            t[i] = ranges.get(i)[1];
        }
        return new TrainableMask(total, f, t);
    }

    /** Length of the flat parameter vector this mask covers. */
    public int size() {
        return size;
    }
    /** Number of disjoint trained ranges. */
    public int ranges() {
        return from.length;
    }
    /** First coordinate of trained range {@code range}, inclusive. */
    public int from(int range) {
        return from[range];
    }
    /** End of trained range {@code range}, exclusive. */
    public int to(int range) {
        return to[range];
    }

    /** Number of trained coordinates: the dimension the noise is drawn in. */
    public long trainableCount() {
        long n = 0;
        for (int i = 0; i < from.length; i++) n += to[i] - from[i];
        return n;
    }

    /** True when coordinate {@code index} is trained (gets noise and updates). */
    public boolean isTrainable(int index) {
        for (int i = 0; i < from.length; i++) if (index >= from[i] && index < to[i]) return true;
        return false;
    }

    /** Sets every frozen coordinate of {@code v} to 0. */
    public void zeroFrozen(float[] v) {
        int prev = 0;
        for (int i = 0; i < from.length; i++) {
            java.util.Arrays.fill(v, prev, from[i], 0f);
            prev = to[i];
        }
        java.util.Arrays.fill(v, prev, size, 0f);
    }

    /** Sets every frozen coordinate of {@code v} to 0 (the float64 clipped sum before the noise). */
    public void zeroFrozen(double[] v) {
        int prev = 0;
        for (int i = 0; i < from.length; i++) {
            java.util.Arrays.fill(v, prev, from[i], 0.0);
            prev = to[i];
        }
        java.util.Arrays.fill(v, prev, size, 0.0);
    }
}
