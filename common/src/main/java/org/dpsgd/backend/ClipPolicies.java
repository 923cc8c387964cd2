package org.dpsgd.backend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dpsgd.config.PerLayerClipping;
import org.dpsgd.config.PrivacyConfig;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;

/**
 * Builds the {@link ClipPolicy} a config asks for on a given network. Per-layer groups are the
 * trainable parameter tensors in {@link Network#parameters()} order, one group per tensor
 * ({@code groups: tensor}) or per layer ({@code groups: layer}: the tensors whose names agree up to
 * the last '.', e.g. {@code conv1.weight} + {@code conv1.bias}). Groups are numbered in order of
 * first appearance. Frozen tensors take no threshold: they have no gradient, so {@code
 * groupOfParameter} points them at group 0, where they add nothing.
 */
public final class ClipPolicies {
    private ClipPolicies() {}

    /**
     * The policy of {@code privacy} for {@code network} with the given frozen parameter-name prefixes.
     * Flat: {@link ClipPolicy#flat}(clip_norm). Per layer: thresholds by the configured split, with
     * sqrt(Σ C_l²) = clip_norm. Errors (one line each): privacy disabled, nothing trainable, an
     * explicit list whose length is not the number of groups.
     */
    public static ClipPolicy from(PrivacyConfig privacy, Network network, List<String> frozenPrefixes) {
        if (!privacy.enabled())
            throw new IllegalStateException("privacy is disabled: there is no clip policy (nothing is clipped)");
        double total = privacy.clipNorm();
        if (!privacy.perLayerClipping()) return ClipPolicy.flat(total);
        PerLayerClipping p = privacy.perLayer();
        List<ParamSpec> params = network.parameters();
        Map<String, Integer> groupOfKey = new LinkedHashMap<>();
        List<Long> groupSize = new ArrayList<>();
        int[] groupOf = new int[params.size()];
        for (int i = 0; i < params.size(); i++) {
            ParamSpec s = params.get(i);
            if (frozen(s.name(), frozenPrefixes)) continue;
            String key = p.groups().equals("layer") ? layerOf(s.name()) : s.name();
            Integer g = groupOfKey.get(key);
            if (g == null) {
                g = groupOfKey.size();
                groupOfKey.put(key, g);
                groupSize.add(0L);
            }
            groupOf[i] = g;
            groupSize.set(g, groupSize.get(g) + s.size());
        }
        int groups = groupOfKey.size();
        if (groups == 0)
            throw new IllegalArgumentException(
                    "per-layer clipping: every parameter of " + network.name() + " is frozen; nothing to clip");
        double[] thresholds = new double[groups];
        switch (p.split()) {
            case "equal" -> java.util.Arrays.fill(thresholds, total / Math.sqrt(groups));
            case "sqrt_params" -> {
                double all = 0;
                for (long n : groupSize) all += n;
                for (int g = 0; g < groups; g++) thresholds[g] = total * Math.sqrt(groupSize.get(g) / all);
            }
            case "explicit" -> {
                if (p.thresholds().size() != groups) {
                    throw new IllegalArgumentException("privacy.per_layer.thresholds has "
                            + p.thresholds().size() + " values but "
                            + network.name() + " has " + groups + " parameter groups (groups: " + p.groups()
                            + ", frozen excluded: "
                            + String.join(
                                    ", ", groupOfKey.keySet().stream().limit(4).toList()) + (groups > 4 ? ", ..." : "")
                            + "); give " + groups + " values or use split: equal");
                }
                for (int g = 0; g < groups; g++) thresholds[g] = p.thresholds().get(g);
            }
            default ->
                throw new IllegalArgumentException(
                        "unknown privacy.per_layer.split '" + p.split() + "'; use equal, sqrt_params or explicit");
        }
        return new ClipPolicy(thresholds, groupOf);
    }

    /** {@link #from(PrivacyConfig, Network, List)} with the config's privacy section and {@code model.freeze}. */
    public static ClipPolicy from(org.dpsgd.config.ExperimentConfig config, Network network) {
        List<String> frozen =
                config.model().freeze() == null ? List.of() : config.model().freeze();
        return from(config.privacy(), network, frozen);
    }

    /** The group names of {@link #from}'s per-layer policy, in group order (for logs and run provenance). */
    public static List<String> groupNames(PerLayerClipping p, Network network, List<String> frozenPrefixes) {
        List<String> names = new ArrayList<>();
        for (ParamSpec s : network.parameters()) {
            if (frozen(s.name(), frozenPrefixes)) continue;
            String key = p.groups().equals("layer") ? layerOf(s.name()) : s.name();
            if (!names.contains(key)) names.add(key);
        }
        return names;
    }

    static String layerOf(String parameterName) {
        int dot = parameterName.lastIndexOf('.');
        return dot < 0 ? parameterName : parameterName.substring(0, dot);
    }

    private static boolean frozen(String name, List<String> prefixes) {
        for (String f : prefixes) if (name.startsWith(f)) return true;
        return false;
    }
}
