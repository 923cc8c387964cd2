package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link GroupNormRule} (one path: the affine's per-sample gradients formed by the backward pass on
 * per-row γ, β leaves): 1, 2 and 4 groups × K = 1, 2 × weight and bias trainable, weight only, bias
 * only; padding and per-group clipping drawn from a seeded generator; each against the batch-size-1
 * loop in float64. Then the mechanism itself: a per-row leaf's gradient is each row's own gradient
 * (against a host float64 sum), the tap holds nothing of the activations' size (the point of the
 * path, issue 12 §3), and in float32 the formed gradients stay within float32 error of the float64
 * loop. (The forward pass against a direct computation: {@link GroupNormTest}.)
 */
class GroupNormRuleTest {
    /** GroupNorm on a 4x3x3 input, then tanh, flatten and a linear head to 3 classes. */
    static Network net(int groups) {
        return new Network(
                "gn" + groups,
                new Shape(4, 3, 3),
                3,
                List.of(
                        new Layer.GroupNorm("gn", 4, groups, 1e-5),
                        new Layer.Activation(Layer.ActivationKind.TANH),
                        new Layer.Flatten(),
                        new Layer.Linear("head", 36, 3, true)));
    }

    static final List<List<String>> FROZEN =
            List.of(List.of(), List.of("head"), List.of("gn.weight"), List.of("gn.bias"));

    static Stream<Arguments> paths() {
        List<Arguments> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(4242);
        for (int groups : new int[] {1, 2, 4}) {
            for (List<String> frozen : FROZEN) {
                for (int k = 1; k <= 2; k++) {
                    RuleHarness.Groups g = RuleHarness.Groups.values()[r.nextInt(RuleHarness.Groups.values().length)];
                    out.add(Arguments.of(groups, frozen, k, g, r.nextLong()));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "G={0} frozen={1} K={2} {3}")
    @MethodSource("paths")
    void equalsTheBatchSizeOneLoop(int groups, List<String> frozen, int copies, RuleHarness.Groups g, long seed) {
        RuleHarness.assertMatchesBatchSizeOneLoop(
                new RuleHarness.Check(net(groups), RuleOptions.DEFAULT, copies, frozen, g, seed));
    }

    /** y = x ⊙ leaf with leaf a per-row copy of p [1, C, 1]; L = Σ v ⊙ y: leaf's gradient [n, c] must be Σ_t v·x. */
    @Test
    void perRowLeafGradientIsEachRowsOwnGradient() {
        TestSupport.backend();
        int rows = 3;
        int c = 2;
        int t = 5;
        SplittableRandom r = new SplittableRandom(11);
        double[] x = new double[rows * c * t];
        double[] v = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = TestSupport.gaussian(r);
            v[i] = TestSupport.gaussian(r);
        }
        double[] p = {0.7, -1.3};
        try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu())) {
            Tape tape = new Tape(m, rows, 1);
            NDArray xs = m.create(x, new ai.djl.ndarray.types.Shape(rows, c, t));
            NDArray vs = m.create(v, new ai.djl.ndarray.types.Shape(rows, c, t));
            NDArray ps = m.create(p, new ai.djl.ndarray.types.Shape(1, c, 1));
            NDArray leaf = ModelRuntime.withGrad(() -> {
                NDArray l = tape.perRowLeaf(ps, rows);
                NDArray loss = xs.mul(l).mul(vs).sum();
                JniUtils.backward(
                        (PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), loss.getDataType()), false, false);
                return l;
            });
            assertEquals(new ai.djl.ndarray.types.Shape(rows, c, 1), leaf.getShape());
            double[] got = leaf.getGradient().toDoubleArray();
            for (int n = 0; n < rows; n++) {
                for (int k = 0; k < c; k++) {
                    double want = 0;
                    for (int j = 0; j < t; j++) want += v[(n * c + k) * t + j] * x[(n * c + k) * t + j];
                    assertEquals(
                            want, got[n * c + k], 1e-12 * Math.max(1, Math.abs(want)), "row " + n + " channel " + k);
                }
            }
            assertNotEquals(got[0], got[c], "rows share one gradient");
            double[] values = leaf.toDoubleArray();
            for (int i = 0; i < values.length; i++) assertEquals(p[i % c], values[i], "row copy of p");
        }
    }

    /**
     * After the forward and backward pass, every array the GroupNorm tap holds is at most N·C elements
     * (its per-row leaves and their gradients): no x̂ and no output gradient [N, C, H, W], which the
     * previous path held from the backward pass to the clipped sum; what measure keeps is [S, C].
     */
    @Test
    void tapHoldsNothingOfTheActivationsSize() throws ReflectiveOperationException {
        TestSupport.backend();
        Network net = net(2);
        Layer.GroupNorm gn = (Layer.GroupNorm) net.layers().get(0);
        int slots = 3;
        int copies = 2;
        int rows = slots * copies;
        float[] init = new float[(int) net.parameterCount()];
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < init.length; i++) init[i] = (float) TestSupport.gaussian(r);
        boolean[] trainable = new boolean[net.parameters().size()];
        java.util.Arrays.fill(trainable, true);
        try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu());
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            ParameterStore store = new ParameterStore(m, Precision.FLOAT64, LossScale.NONE, net, trainable, init);
            store.freshLeaves(false);
            GroupNormRule.Forward op = new GroupNormRule.Forward(gn, store, new Constants(m, Precision.FLOAT64));
            Tape tape = new Tape(m, slots, copies);
            double[] xs = new double[rows * 4 * 3 * 3];
            for (int i = 0; i < xs.length; i++) xs[i] = TestSupport.gaussian(r);
            NDArray x = m.create(xs, new ai.djl.ndarray.types.Shape(rows, 4, 3, 3));
            ModelRuntime.withGrad(() -> {
                NDArray y = op.forward(x, tape);
                NDArray loss = y.mul(x.add(0.5)).sum();
                JniUtils.backward(
                        (PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), loss.getDataType()), false, false);
                return y;
            });
            assertEquals(1, tape.taps().size());
            Tap tap = tape.taps().get(0);
            long perRow = (long) rows * gn.channels();
            int held = 0;
            for (Field f : tap.getClass().getDeclaredFields()) {
                if (!NDArray.class.isAssignableFrom(f.getType())) continue;
                f.setAccessible(true);
                NDArray a = (NDArray) f.get(tap);
                if (a == null) continue;
                held++;
                assertTrue(a.size() <= perRow, f.getName() + " holds " + a.getShape());
                if (a.hasGradient()) {
                    assertTrue(
                            a.getGradient().size() <= perRow,
                            f.getName() + "'s gradient is " + a.getGradient().getShape());
                }
            }
            assertEquals(2, held, "the tap holds its γ and β leaves");
            ModelRuntime.withoutGrad(() -> {
                tap.harvest();
                tap.measure(new SlotNorms(org.dpsgd.backend.ClipPolicy.flat(1.0), slots));
                return null;
            });
            for (NDArray k : tap.kept())
                assertEquals(new ai.djl.ndarray.types.Shape(slots, gn.channels()), k.getShape());
        }
    }

    /**
     * float32: the per-sample γ, β gradients are formed by the float32 backward pass (sums over H·W in
     * float32), then cast up; norms against the float64 batch-size-1 loop stay within float32 error
     * (u = 2^-24; a few roundings per value on this two-layer net, bound 1e-5 relative with margin).
     */
    @ParameterizedTest(name = "K={0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2})
    void float32FormedGradientsStayWithinFloat32Error(int copies) {
        Network net = net(2);
        org.dpsgd.backend.DeviceBatch b = TestSupport.batch(net, 5, copies, 77, 1.0, 2);
        try (DjlTrainableModel f32 =
                        TestSupport.model(net, "bookkeeping", "float32", List.of("head"), RuleOptions.DEFAULT);
                DjlTrainableModel ref64 =
                        TestSupport.model(net, "microbatch", "float64", List.of("head"), RuleOptions.DEFAULT)) {
            double[] want = ref64.perSampleGradientNorms(b);
            double[] got = f32.perSampleGradientNorms(b);
            for (int i = 0; i < want.length; i++) {
                if (b.mask()[i] == 0f) {
                    assertEquals(0.0, got[i], "padding slot " + i);
                    continue;
                }
                assertTrue(want[i] > 0);
                assertEquals(want[i], got[i], 1e-5 * want[i], "norm of slot " + i);
            }
        }
    }
}
