package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.lang.reflect.Field;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * When the arrays of a step are freed (issue 12 §3): {@link Op#chain} closes each intermediate's handle
 * once the next op has used it, and a convolution's tap ({@link Tap#harvest}) outlives the forward pass's
 * arrays and frees its output gradient once its last use is done (after the norm on the explicit path,
 * after the clipped sum on the ghost path). The values are checked elsewhere (StrategyExactnessTest,
 * Conv2dRuleTest): here only lifetimes.
 */
class ArrayLifetimeTest {
    @Test
    void chainClosesIntermediatesButNotItsInputNorItsResult() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch");
                NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = m.ones(new ai.djl.ndarray.types.Shape(3));
            NDArray[] seen = new NDArray[3];
            List<Op> ops = List.of(
                    (a, t) -> seen[0] = a.mul(2),
                    (a, t) -> seen[1] = a, // an op that hands its input on: not closed on its account
                    (a, t) -> seen[2] = a.add(1));
            NDArray y = Op.chain(ops, x, Tape.NONE);
            assertFalse(x.isReleased(), "the caller's input stays open");
            assertFalse(y.isReleased(), "the result stays open");
            assertTrue(seen[0].isReleased(), "an intermediate is closed once the next op has used it");
            assertEquals(3f, y.getFloat(0));
            assertEquals(1f, x.getFloat(0));
        }
    }

    /**
     * One convolution under book-keeping, forced explicit or ghost: after the forward and backward pass in a
     * scope of their own, closed with only the harvested arrays kept, the zero leaf is gone and the harvested
     * output gradient is open; the explicit path closes it in measure, the ghost path in accumulateClipped.
     */
    @ParameterizedTest
    @ValueSource(strings = {"EXPLICIT", "GHOST"})
    void convolutionFreesItsOutputGradientAfterItsLastUse(String path) throws ReflectiveOperationException {
        TestSupport.backend();
        Layer.Conv2d conv = new Layer.Conv2d("c", 2, 3, 3, 1, 1, false, false);
        Network net = new Network("one-conv", new Shape(2, 5, 5), 3 * 5 * 5, List.of(conv));
        int slots = 2;
        float[] init = new float[(int) net.parameterCount()];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < init.length; i++) init[i] = (float) TestSupport.gaussian(r);
        boolean[] trainable = {true};
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                NDScope step = new NDScope()) {
            step.suppressNotUsedWarning();
            ParameterStore store = new ParameterStore(m, Precision.FLOAT32, LossScale.NONE, net, trainable, init);
            store.freshLeaves(false);
            Conv2dRule.Forward op = new Conv2dRule.Forward(
                    conv,
                    store,
                    new Constants(m, Precision.FLOAT32),
                    RuleOptions.Norm.valueOf(path),
                    RuleOptions.Unfold.SLICES);
            Tape tape = new Tape(m, slots, 1);
            float[] xs = new float[slots * 2 * 5 * 5];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) TestSupport.gaussian(r);
            NDArray[] leaf = new NDArray[1];
            TapScope.run(
                    () -> ModelRuntime.withGrad(() -> {
                        NDArray x = m.create(xs, new ai.djl.ndarray.types.Shape(slots, 2, 5, 5));
                        NDArray y = op.forward(x, tape);
                        leaf[0] = field(tape.taps().get(0), "zero");
                        NDArray loss = y.mul(y).sum();
                        ai.djl.pytorch.jni.JniUtils.backward(
                                (ai.djl.pytorch.engine.PtNDArray) loss,
                                (ai.djl.pytorch.engine.PtNDArray) m.ones(loss.getShape(), loss.getDataType()),
                                false,
                                false);
                        return y;
                    }),
                    () -> tape.taps().get(0).harvest());
            Tap tap = tape.taps().get(0);
            assertTrue(leaf[0].isReleased(), "the zero leaf is closed with the forward pass's arrays");
            NDArray grad = field(tap, "grad");
            assertNotNull(grad);
            assertFalse(grad.isReleased(), "the harvested output gradient outlives the forward pass's scope");
            SlotNorms sn = new SlotNorms(ClipPolicy.flat(1.0), slots);
            ModelRuntime.withoutGrad(() -> {
                TapScope.run(() -> tap.measure(sn), () -> {
                    List<NDArray> keep = new java.util.ArrayList<>(tap.kept());
                    keep.addAll(sn.live());
                    return keep;
                });
                return null;
            });
            boolean ghost = path.equals("GHOST");
            assertEquals(
                    !ghost, grad.isReleased(), "after measure, the output gradient is freed iff the path is explicit");
            double[] norms = new double[slots];
            ClipDecision d = ClipDecision.decide(ClipPolicy.flat(1.0), sn, new boolean[] {true, true}, norms, 0);
            ModelRuntime.withoutGrad(() -> {
                TapScope.run(() -> tap.accumulateClipped(new ClipFactors(m, ClipPolicy.flat(1.0), d)), List::of);
                return null;
            });
            assertTrue(grad.isReleased(), "after the clipped sum nothing holds the output gradient");
            assertTrue(norms[0] > 0 && norms[1] > 0, "norms were taken");
        }
    }

    private static NDArray field(Object o, String name) {
        try {
            Field f = o.getClass().getDeclaredField(name);
            f.setAccessible(true);
            return (NDArray) f.get(o);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
