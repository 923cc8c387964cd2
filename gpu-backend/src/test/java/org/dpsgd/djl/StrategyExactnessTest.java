package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
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
 * Every vectorised strategy must equal the microbatch reference on the same batch: per-sample norms
 * and the clipped sum, with some samples clipped and some not, padding slots, augmentation
 * multiplicity and frozen layers.
 */
class StrategyExactnessTest {
    record Case(
            String label,
            ModelSpec spec,
            String input,
            int classes,
            String dtype,
            int slots,
            int copies,
            List<String> frozen,
            int[] padded) {
        @Override
        public String toString() {
            return label + " " + dtype + " K=" + copies + (frozen.isEmpty() ? "" : " frozen=" + frozen);
        }
    }

    static Stream<Arguments> cases() {
        List<Case> cs = new ArrayList<>();
        ModelSpec ws = new ModelSpec("small-cnn", null, null, null, true);
        cs.add(new Case(
                "small-cnn", ModelSpec.of("small-cnn"), "1x28x28", 10, "float64", 6, 1, List.of(), new int[] {2}));
        cs.add(new Case(
                "small-cnn", ModelSpec.of("small-cnn"), "1x28x28", 10, "float32", 6, 1, List.of(), new int[] {5}));
        cs.add(new Case(
                "small-cnn", ModelSpec.of("small-cnn"), "1x28x28", 10, "float64", 5, 2, List.of(), new int[] {1}));
        cs.add(new Case("small-cnn-ws", ws, "1x16x16", 10, "float64", 5, 1, List.of(), new int[] {0}));
        cs.add(new Case(
                "fmnist-cnn", ModelSpec.of("fmnist-cnn"), "1x28x28", 10, "float64", 6, 1, List.of(), new int[] {3}));
        cs.add(new Case(
                "fmnist-cnn", ModelSpec.of("fmnist-cnn"), "1x28x28", 10, "float32", 6, 2, List.of(), new int[] {0}));
        cs.add(new Case(
                "resnet18-gn",
                ModelSpec.of("resnet18-gn").withStem("cifar"),
                "3x8x8",
                10,
                "float64",
                3,
                1,
                List.of(),
                new int[] {1}));
        cs.add(new Case(
                "resnet18-gn",
                ModelSpec.of("resnet18-gn"),
                "3x16x16",
                10,
                "float32",
                3,
                2,
                List.of("conv1", "bn1", "layer1"),
                new int[] {2}));
        cs.add(new Case(
                "wrn16-4", ModelSpec.of("wrn16-4"), "3x8x8", 10, "float64", 3, 2, List.of("layer1.0.conv1"), new int[] {
                    2
                }));
        cs.add(new Case(
                "resnet18-gn", ModelSpec.of("resnet18-gn"), "3x32x32", 10, "float64", 3, 1, List.of(), new int[] {0}));
        cs.add(new Case(
                "wrn16-4-ws",
                new ModelSpec("wrn16-4", null, null, null, true),
                "3x8x8",
                10,
                "float64",
                3,
                1,
                List.of(),
                new int[] {1}));
        return cs.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bookkeepingEqualsMicrobatch(Case c) {
        Network net = ModelZoo.build(c.spec(), Shape.parse(c.input()), c.classes());
        double tol = c.dtype().equals("float64") ? 1e-8 : 1e-4;
        try (DjlTrainableModel reference = TestSupport.model(net, "microbatch", c.dtype(), c.frozen());
                DjlTrainableModel fast = TestSupport.model(net, "bookkeeping", c.dtype(), c.frozen())) {
            DeviceBatch b = TestSupport.batch(net, c.slots(), c.copies(), 11, 1.0, c.padded());
            double[] refNorms = reference.perSampleGradientNorms(b);
            double[] norms = fast.perSampleGradientNorms(b);
            double[] real = realOnly(refNorms, b);
            double clip = TestSupport.midpointBelowMedian(real);
            for (int i = 0; i < b.slots(); i++) {
                if (b.mask()[i] == 0f) continue;
                assertTrue(refNorms[i] > 0, "slot " + i + " has a zero gradient");
                assertEquals(refNorms[i], norms[i], tol * refNorms[i], "norm of slot " + i);
            }
            BatchStats rs = reference.accumulateClipped(b, clip);
            BatchStats fs = fast.accumulateClipped(b, clip);
            assertTrue(rs.clipped() > 0 && rs.clipped() < rs.samples(), "some but not all samples clipped: " + rs);
            assertEquals(rs.clipped(), fs.clipped());
            assertEquals(rs.samples(), fs.samples());
            assertEquals(rs.lossSum(), fs.lossSum(), 1e-5 * Math.abs(rs.lossSum()));
            int n = (int) net.parameterCount();
            float[] want = new float[n];
            float[] got = new float[n];
            reference.drainGradientSum(want);
            fast.drainGradientSum(got);
            double err = TestSupport.relativeError(got, want);
            // float64 results travel back as float32: 1e-8 is checked on norms; the sum is limited by the float
            // transfer.
            double sumTol = c.dtype().equals("float64") ? 1e-7 : 1e-4;
            assertTrue(err <= sumTol, "relative error of the clipped sum " + err);
            assertFrozenAreZero(net, c, got);
        }
    }

    static double[] realOnly(double[] v, DeviceBatch b) {
        return java.util.stream.IntStream.range(0, v.length)
                .filter(i -> b.mask()[i] != 0f)
                .mapToDouble(i -> v[i])
                .toArray();
    }

    static void assertFrozenAreZero(Network net, Case c, float[] grad) {
        var ps = net.parameters();
        int[] off = net.parameterOffsets();
        boolean anyTrainableNonZero = false;
        for (int i = 0; i < ps.size(); i++) {
            boolean frozen = c.frozen().stream().anyMatch(ps.get(i).name()::startsWith);
            for (int k = 0; k < ps.get(i).size(); k++) {
                if (frozen) assertEquals(0f, grad[off[i] + k], ps.get(i).name() + " is frozen but has a gradient");
                else if (grad[off[i] + k] != 0f) anyTrainableNonZero = true;
            }
        }
        assertTrue(anyTrainableNonZero);
    }
}
