package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A book-keeping step must not depend on the state an earlier call left the parameters in. The non-private and
 * microbatch steps make every parameter a leaf that requires a gradient and set them back when done; a call that
 * threw half-way would leave them requiring one, and then the first parametrised layer's output would have
 * autograd history where {@link Tape#withLeaf} relies on there being none. {@code BookkeepingStrategy.run}
 * therefore resets them first (review of session 9, S2): with that line removed this test fails.
 */
class LeafStateTest {
    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of(ModelSpec.of("small-cnn"), "1x28x28", 5),
                Arguments.of(ModelSpec.of("resnet18-gn").withStem("cifar"), "3x8x8", 3));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void bookkeepingAfterParametersWereLeftRequiringGradientsEqualsAFreshModel(
            ModelSpec spec, String input, int slots) {
        Network net = ModelZoo.build(spec, Shape.parse(input), 10);
        try (DjlTrainableModel fresh = TestSupport.model(net, "bookkeeping", "float64", List.of());
                DjlTrainableModel left = TestSupport.model(net, "bookkeeping", "float64", List.of())) {
            DeviceBatch b = TestSupport.batch(net, slots, 1, 5, 1.0, 1);
            left.store().freshLeaves(true); // what a non-private or microbatch call that threw half-way leaves
            BatchStats want = fresh.accumulateClipped(b, 0.5);
            BatchStats got = left.accumulateClipped(b, 0.5);
            assertEquals(want, got);
            int n = (int) net.parameterCount();
            double[] wantSum = new double[n];
            double[] gotSum = new double[n];
            fresh.drainGradientSum(wantSum);
            left.drainGradientSum(gotSum);
            assertTrue(java.util.Arrays.stream(wantSum).anyMatch(v -> v != 0), "the step summed something");
            assertArrayEquals(wantSum, gotSum, 0.0);
        }
    }
}
