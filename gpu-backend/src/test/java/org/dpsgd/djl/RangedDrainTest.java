package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ranged float64 drain ({@code drainGradientSum(double[], from, to, at)}) hands over, piece by
 * piece, exactly the values of the whole drain of the same sum, for pieces that cut parameters
 * anywhere (1, a prime, a tensor boundary, all at once), for float64 accumulators (a clipped
 * sum over several calls) and a kept float32 gradient (one unclipped call, widened exactly); it
 * empties the accumulator; out-of-order pieces and adding to a partly drained sum are refused.
 */
class RangedDrainTest {
    private static final Network NET = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x28x28"), 10);
    private static final int N = (int) NET.parameterCount();

    private static double[] ranged(DjlTrainableModel m, int piece) {
        double[] out = new double[N + 3];
        double[] buffer = new double[piece + 2];
        for (int a = 0; a < N; a += piece) {
            int len = Math.min(piece, N - a);
            m.drainGradientSum(buffer, a, a + len, 2);
            System.arraycopy(buffer, 2, out, a + 3, len);
        }
        return java.util.Arrays.copyOfRange(out, 3, N + 3);
    }

    @ParameterizedTest(name = "{0} {1} piece={2}")
    @CsvSource({
        "auto, float32, 4099",
        "auto, float32, 1",
        "auto, float64, 1000",
        "microbatch, float32, 100000000",
        "nonprivate, float32, 4099",
        "nonprivate, float64, 7"
    })
    void piecesHandOverTheWholeDrainsValues(String strategy, String dtype, int piece) {
        DeviceBatch b = TestSupport.batch(NET, 6, 1, 3, 1.0, 2);
        boolean clipped = !strategy.equals("nonprivate");
        try (DjlTrainableModel m = TestSupport.model(NET, strategy, dtype, List.of())) {
            assertTrue(m.drainsRanges());
            for (int round = 0; round < 2; round++) {
                double[] want = new double[N];
                accumulate(m, b, clipped);
                m.drainGradientSum(want);
                accumulate(m, b, clipped);
                assertArrayEquals(want, ranged(m, piece), "round " + round);
                double[] empty = new double[N];
                m.drainGradientSum(empty);
                assertArrayEquals(new double[N], empty, "drained means zeroed");
                assertTrue(java.util.Arrays.stream(want).anyMatch(v -> v != 0), "a zero sum tests nothing");
            }
        }
    }

    private static void accumulate(DjlTrainableModel m, DeviceBatch b, boolean clipped) {
        if (clipped) {
            m.accumulateClipped(b, 0.3);
            m.accumulateClipped(b, 0.3); // a second call: float64 accumulators
        } else {
            m.accumulateUnclipped(b); // one call: the gradient itself is kept (float32 in a float32 model)
        }
    }

    @Test
    void outOfOrderPiecesAndAddingToAPartlyDrainedSumAreRefused() {
        DeviceBatch b = TestSupport.batch(NET, 4, 1, 5, 1.0);
        try (DjlTrainableModel m = TestSupport.model(NET, "auto", "float32", List.of())) {
            m.accumulateClipped(b, 0.5);
            double[] buf = new double[N];
            m.drainGradientSum(buf, 0, 10, 0);
            assertThrows(IllegalStateException.class, () -> m.drainGradientSum(buf, 20, 30, 0), "skips [10, 20)");
            assertThrows(IllegalStateException.class, () -> m.accumulateClipped(b, 0.5));
            assertThrows(IllegalStateException.class, () -> m.drainGradientSum(new double[N]));
            m.drainGradientSum(buf, 10, N, 0);
            m.accumulateClipped(b, 0.5); // whole again: accepted
            m.drainGradientSum(new double[N]);
        }
    }
}
