package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.DeviceSgd;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.optim.Sgd;
import org.dpsgd.optim.TrainableMask;
import org.dpsgd.train.DpSgdStep;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The DJL backend's in-place non-private update ({@link DjlTrainableModel#deviceSgd}, {@link InPlaceSgd})
 * against two independent references: the real-number step p − lr·S/L computed in float64 on the host
 * from the accumulated sum (float32: within the rounding the fused pass is allowed), and the host
 * path's own arithmetic ({@code DpSgdStep.nonPrivateUpdate} with plain {@code Sgd}) on a second model
 * (float64: bit for bit). Both with one call (the sum kept as the gradient itself) and two calls (a
 * float64 accumulator), frozen parameters untouched, the accumulator empty afterwards, and a
 * clipped (private) sum refused.
 */
class DeviceSgdTest {
    private static Network net(String model) {
        return model.equals("small-cnn")
                ? ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x12x12"), 10)
                : ModelZoo.build(ModelSpec.of(model), Shape.parse("3x16x16"), 10);
    }

    /** Random parameters, small enough for resnet18-gn's logits not to saturate the softmax. */
    private static float[] randomParameters(int n, long seed, String model) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = new float[n];
        double scale = model.equals("small-cnn") ? 0.2 : 0.01;
        for (int i = 0; i < n; i++) p[i] = (float) (scale * TestSupport.gaussian(r));
        return p;
    }

    /**
     * float32: each coordinate is the real-number step v = p − lr·S/L (S the exact accumulated sum, read in
     * float64 before the update) up to the fused pass's two roundings: the multiplier −lr/L rounded to
     * float32 (relative 2^-24 of the step) and the result rounded to float32 (half an ulp of it). The bound
     * used, ulp(result) + 2^-22·|lr·S/L|, is twice that; a wrong lr, L, sign or a skipped tensor breaks it
     * by orders of magnitude (the step itself is far above an ulp on most coordinates, checked).
     */
    @ParameterizedTest
    @CsvSource({"small-cnn,1,0.37", "small-cnn,2,0.37", "resnet18-gn,1,60", "resnet18-gn,2,60"})
    void float32StepIsTheRealNumberStepWithinItsRounding(String model, int calls, double lr) {
        Network net = net(model);
        int n = (int) net.parameterCount();
        float[] p = new float[n];
        DeviceBatch b = TestSupport.batch(net, 6, 1, 11, 1.0, 4);
        int realized = 5 * calls; // lr large enough for resnet18-gn's small gradients to move most coordinates
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", "float32", List.of())) {
            m.readParameters(p); // the initialisation's (random ones saturate resnet18-gn's softmax: zero gradients)
            for (int c = 0; c < calls; c++) m.accumulateUnclipped(b);
            double[] sum = m.gradientSum64();
            m.deviceSgd().orElseThrow().step(realized, lr);
            float[] after = new float[n];
            m.readParameters(after);
            int moved = 0;
            int withGradient = 0;
            for (int i = 0; i < n; i++) {
                double stepSize = lr * sum[i] / realized;
                double v = p[i] - stepSize;
                double bound = Math.ulp(after[i]) + Math.scalb(Math.abs(stepSize), -22);
                assertTrue(Math.abs(after[i] - v) <= bound, "coordinate " + i + ": " + after[i] + " vs " + v);
                if (sum[i] != 0) withGradient++;
                if (Math.abs(stepSize) > 4 * Math.ulp(p[i])) moved++;
            }
            // At this small input resnet18-gn's last stage sees 1 pixel: most of its 3x3 taps get no gradient.
            assertTrue(withGradient > n / 10, withGradient + " of " + n + " coordinates have a gradient");
            assertTrue(
                    moved > withGradient / 2,
                    "only " + moved + " of " + withGradient + " coordinates took a step above 4 ulp");
            assertEmptyAccumulator(m, n);
        }
    }

    /**
     * float64: the host's float arithmetic is replayed op for op, so the parameters equal, bit for bit,
     * those of a second model whose sum is drained and updated by DpSgdStep.nonPrivateUpdate with plain
     * Sgd (the trainer's host path), over three steps with different L and lr.
     */
    @ParameterizedTest
    @CsvSource({"small-cnn,1", "small-cnn,2", "resnet18-gn,1", "resnet18-gn,2"})
    void float64StepEqualsTheHostPathBitForBit(String model, int calls) {
        Network net = net(model);
        int n = (int) net.parameterCount();
        float[] p = randomParameters(n, 5, model);
        DpSgdStep host =
                new DpSgdStep((NoiseSource) null, new Sgd(0, false, 0, TrainableMask.all(n)), TrainableMask.all(n));
        try (DjlTrainableModel device = TestSupport.model(net, "nonprivate", "float64", List.of());
                DjlTrainableModel reference = TestSupport.model(net, "nonprivate", "float64", List.of())) {
            device.writeParameters(p);
            reference.writeParameters(p);
            float[] hostParams = p.clone();
            double[] lrs = {0.3, 0.05, 1.7};
            for (int s = 0; s < 3; s++) {
                DeviceBatch b = TestSupport.batch(net, 6, 1, 20 + s, 1.0, s);
                int realized = (s == 0 ? 6 : 5) * calls;
                for (int c = 0; c < calls; c++) {
                    device.accumulateUnclipped(b);
                    reference.accumulateUnclipped(b);
                }
                device.deviceSgd().orElseThrow().step(realized, lrs[s]);
                float[] sum = new float[n];
                reference.drainGradientSum(sum);
                assertTrue(host.nonPrivateUpdate(hostParams, sum, realized, lrs[s]));
                reference.writeParameters(hostParams);
                float[] after = new float[n];
                device.readParameters(after);
                assertArrayEquals(hostParams, after, "step " + (s + 1));
            }
            assertTrue(TestSupport.relativeError(p, hostParams) > 1e-3, "the steps moved the parameters");
            assertEmptyAccumulator(device, n);
        }
    }

    /** Frozen parameters have no sum and are left exactly as they were; the others move. */
    @ParameterizedTest
    @ValueSource(strings = {"float32", "float64"})
    void frozenParametersAreUntouched(String precision) {
        Network net = net("small-cnn");
        int n = (int) net.parameterCount();
        float[] p = randomParameters(n, 9, "small-cnn");
        String frozen = net.parameters().get(0).name();
        int frozenSize = net.parameters().get(0).size();
        try (DjlTrainableModel m = TestSupport.model(net, "nonprivate", precision, List.of(frozen))) {
            m.writeParameters(p);
            m.accumulateUnclipped(TestSupport.batch(net, 6, 1, 4, 1.0));
            m.deviceSgd().orElseThrow().step(6, 0.5);
            float[] after = new float[n];
            m.readParameters(after);
            for (int i = 0; i < frozenSize; i++) assertEquals(p[i], after[i], "frozen coordinate " + i);
            int moved = 0;
            for (int i = frozenSize; i < n; i++) if (after[i] != p[i]) moved++;
            assertTrue(moved > (n - frozenSize) / 2, moved + " trainable coordinates moved");
        }
    }

    /**
     * A clipped sum is a private step's: it must get noise on the host, so the device update refuses it
     * and changes nothing; after the drain (what the trainer does) the model updates again.
     */
    @ParameterizedTest
    @ValueSource(strings = {"auto", "microbatch"})
    void refusesAClippedSum(String strategy) {
        Network net = net("small-cnn");
        int n = (int) net.parameterCount();
        DeviceBatch b = TestSupport.batch(net, 6, 1, 4, 1.0);
        try (DjlTrainableModel m = TestSupport.model(net, strategy, "float32", List.of())) {
            float[] before = new float[n];
            m.readParameters(before);
            DeviceSgd sgd = m.deviceSgd().orElseThrow();
            BatchStats unused = m.accumulateClipped(b, ClipPolicy.flat(1.0));
            assertEquals(6, unused.samples());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> sgd.step(6, 0.1));
            assertTrue(e.getMessage().contains("clipped"), e.getMessage());
            float[] after = new float[n];
            m.readParameters(after);
            assertArrayEquals(before, after);
            m.drainGradientSum(new double[n]);
            m.accumulateUnclipped(b);
            sgd.step(6, 0.1);
            m.readParameters(after);
            assertTrue(TestSupport.relativeError(before, after) > 0, "the unclipped sum was applied");
        }
    }

    private static void assertEmptyAccumulator(DjlTrainableModel m, int n) {
        double[] left = new double[n];
        m.drainGradientSum(left);
        for (int i = 0; i < n; i++) assertEquals(0.0, left[i], "accumulator left " + left[i] + " at " + i);
    }
}
