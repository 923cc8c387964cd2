package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Padding slots must contribute exactly nothing: changing their inputs and labels changes no bit of the result. */
class PaddingTest {
    @ParameterizedTest(name = "{0} {1} K={2}")
    @CsvSource({
        "bookkeeping,small-cnn,1",
        "bookkeeping,small-cnn,2",
        "microbatch,small-cnn,1",
        "nonprivate,small-cnn,1",
        "bookkeeping,fmnist-cnn,1"
    })
    void paddedSlotsChangeNothing(String strategy, String model, int copies) {
        Network net = ModelZoo.build(ModelSpec.of(model), Shape.parse("1x28x28"), 10);
        int[] padded = {1, 4};
        DeviceBatch a = TestSupport.batch(net, 6, copies, 5, 1.0, padded);
        DeviceBatch b = TestSupport.batch(net, 6, copies, 5, 1.0, padded);
        SplittableRandom r = new SplittableRandom(99);
        for (int p : padded) {
            b.labels()[p] = (b.labels()[p] + 3) % 10;
            for (int k = 0; k < copies; k++) {
                int off = b.inputOffset(p, k);
                for (int i = 0; i < net.input().size(); i++)
                    b.inputs()[off + i] = (float) (100 * TestSupport.gaussian(r));
            }
        }
        // even non-finite garbage in a padded slot must not leak in through 0 * NaN
        b.inputs()[b.inputOffset(padded[0], 0)] = Float.NaN;
        b.inputs()[b.inputOffset(padded[1], 0) + 1] = Float.POSITIVE_INFINITY;
        float[] ga = run(net, strategy, a);
        float[] gb = run(net, strategy, b);
        assertArrayEquals(ga, gb, "padding slots changed the gradient sum");
    }

    private static float[] run(Network net, String strategy, DeviceBatch batch) {
        try (DjlTrainableModel m =
                TestSupport.model(net, strategy.equals("nonprivate") ? "microbatch" : strategy, "float32", List.of())) {
            BatchStats s =
                    strategy.equals("nonprivate") ? m.accumulateUnclipped(batch) : m.accumulateClipped(batch, 0.5);
            assertEquals(batch.realCount(), s.samples());
            float[] g = new float[(int) net.parameterCount()];
            m.drainGradientSum(g);
            return g;
        }
    }
}
