package org.dpsgd.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.optim.TrainableMask;
import org.junit.jupiter.api.Test;

class GradientCanariesTest {
    private static final Network NET = new Network(
            "logreg", new Shape(1, 8, 8), 10, List.of(new Layer.Flatten(), new Layer.Linear("fc", 64, 10, true)));

    @Test
    void drawsDistinctTrainableCoordinatesAndFairCoins() {
        TrainableMask mask = TrainableMask.of(NET, List.of("fc.bias"));
        GradientCanaries c = GradientCanaries.draw(600, mask, new SplittableRandom(1));
        Set<Integer> seen = new HashSet<>();
        for (int x : c.coordinates()) {
            assertTrue(mask.isTrainable(x), "coordinate " + x + " is frozen");
            assertTrue(seen.add(x));
        }
        int in = 0;
        for (boolean b : c.coins()) if (b) in++;
        assertEquals(in, c.count());
        // Binomial(600, ½): 300 ± 3.5 standard deviations.
        assertTrue(Math.abs(in - 300) < 43, in + " IN of 600");
    }

    @Test
    void anIncludedCanaryAddsTheSensitivityOnItsOwnCoordinateOnly() {
        GradientCanaries c = new GradientCanaries(new int[] {5, 2, 9}, new boolean[] {false, true, true});
        assertEquals(2, c.count());
        double[] sum = new double[12];
        ClipPolicy perLayer = new ClipPolicy(new double[] {3, 4}, new int[] {0, 1});
        c.addClippedGradient(1, sum, perLayer); // the second IN canary: coordinate 9
        for (int i = 0; i < sum.length; i++) assertEquals(i == 9 ? 5.0 : 0.0, sum[i]);
        // Added in float64: a sensitivity below half a float ulp of the sum is not rounded away before the noise.
        double[] big = new double[12];
        big[9] = 1e8;
        c.addClippedGradient(1, big, new ClipPolicy(new double[] {0.5}, new int[] {0, 0}));
        assertEquals(1e8 + 0.5, big[9]);
        // Distinct coordinates: at most one canary adds to any coordinate (the clip margin counts it).
        assertEquals(1, c.addsPerCoordinate());
    }

    @Test
    void refusesMoreCanariesThanCoordinates() {
        TrainableMask mask = TrainableMask.of(NET, List.of());
        assertThrows(IllegalArgumentException.class, () -> GradientCanaries.draw(651, mask, new SplittableRandom(1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> new GradientCanaries(new int[] {1, 1}, new boolean[] {true, false}));
    }
}
