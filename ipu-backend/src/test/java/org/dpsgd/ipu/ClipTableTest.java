package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The clip table the IPU graph reads each call: one bound and one group id per trainable tensor
 * (frozen tensors skipped), which the device turns into per-group norms and factors. The group sums
 * the device forms from it (tensors with equal ids) must be exactly the policy's groups, and the
 * sensitivity of the bounds actually sent never exceeds the policy's.
 */
class ClipTableTest {
    private static final Network NET =
            ModelZoo.build(ModelSpec.of("resnet18-gn").withStem("cifar"), new Shape(3, 32, 32), 10);

    @Test
    void flatClippingIsOneGroupWithTheBound() {
        int[] all = java.util.stream.IntStream.range(0, NET.parameters().size()).toArray();
        float[] t = ClipTable.of(ClipPolicy.flat(0.75), all, BigDecimal.ZERO);
        assertEquals(2 * all.length, t.length);
        for (int i = 0; i < all.length; i++) {
            assertEquals(0.75f, t[i]);
            assertEquals(0f, t[all.length + i]);
        }
        float[] u = ClipTable.unclipped(3);
        assertArrayEquals(
                new float[] {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, 0, 0, 0}, u);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void perLayerGroupsAndBoundsSurviveFreezingAndRounding(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = NET.parameters().size();
        int groups = 1 + rng.nextInt(6);
        double[] thresholds = new double[groups];
        for (int g = 0; g < groups; g++) thresholds[g] = Math.exp(rng.nextDouble(-5, 3));
        int[] groupOf = new int[n];
        for (int i = 0; i < n; i++) groupOf[i] = rng.nextInt(groups);
        ClipPolicy policy = new ClipPolicy(thresholds, groupOf);
        // Freeze a random prefix of layers, as model.freeze does.
        String prefix = List.of("conv1", "layer1", "layer2").get(rng.nextInt(3));
        int[] frozen =
                IpuBackend.frozenTensors(NET, new ModelOptions(null, BatchLayout.of(1), List.of(prefix), Map.of()));
        int[] trainable = java.util.stream.IntStream.range(0, n)
                .filter(i -> java.util.Arrays.binarySearch(frozen, i) < 0)
                .toArray();
        assertTrue(frozen.length > 0 && trainable.length > 0);
        for (int f : frozen) assertTrue(NET.parameters().get(f).name().startsWith(prefix));

        float[] table = ClipTable.of(policy, trainable, BigDecimal.ZERO);
        int t = trainable.length;
        double sensitivitySent = 0;
        java.util.Set<Integer> groupsSeen = new java.util.HashSet<>();
        for (int i = 0; i < t; i++) {
            int p = trainable[i];
            // The device's same-group test (equal float ids) is exactly the policy's grouping.
            for (int j = 0; j < t; j++) assertEquals(groupOf[p] == groupOf[trainable[j]], table[t + i] == table[t + j]);
            // A bound is never rounded up: float(C) <= C.
            assertTrue(table[i] <= thresholds[groupOf[p]]);
            assertTrue(table[i] >= Math.nextDown((float) thresholds[groupOf[p]]));
            if (groupsSeen.add(groupOf[p])) sensitivitySent += (double) table[i] * table[i];
        }
        assertTrue(Math.sqrt(sensitivitySent) <= policy.sensitivity() * (1 + 1e-12));
    }

    @Test
    void boundsBelowTheMarginsRangeAreRefused() {
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> ClipTable.of(ClipPolicy.flat(1e-31), new int[] {0}, BigDecimal.ZERO))
                .getMessage()
                .contains("rounding margin"));
        assertEquals(Math.nextDown(0.1f), ClipTable.roundDown(0.1)); // (float) 0.1 is above 0.1
        assertEquals(0.5f, ClipTable.roundDown(0.5)); // exact values stay
    }
}
