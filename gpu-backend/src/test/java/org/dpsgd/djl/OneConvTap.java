package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * One conv in a float32 model with {@code AUTO}'s unfold choices, recorded over a seeded input and backed through a
 * seeded loss Σ y·r: its {@link Tap}, harvested and ready to measure. The Record-level tests of what a tap keeps
 * ({@code FormedWideBoundTest}, {@code KeptOutGradBoundTest}) start here; the arrays live in {@code m} and the
 * caller's scope. {@link #withHead} is the whole-model form of one such conv.
 */
final class OneConvTap {
    private OneConvTap() {}

    static Tap recorded(NDManager m, Layer.Conv2d conv, int size, int slots, RuleOptions.Norm norm) {
        TestSupport.backend();
        Shape in = new Shape(conv.in(), size, size);
        Shape out = conv.outputShape(in);
        SplittableRandom r = new SplittableRandom(slots);
        Network one = new Network("one-conv", in, out.size(), List.of(conv));
        float[] init = new float[(int) one.parameterCount()];
        for (int i = 0; i < init.length; i++) init[i] = (float) (0.05 * TestSupport.gaussian(r));
        float[] xs = new float[slots * in.size()];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) TestSupport.gaussian(r);
        float[] rs = new float[slots * out.size()];
        for (int i = 0; i < rs.length; i++) rs[i] = (float) TestSupport.gaussian(r);
        ParameterStore store =
                new ParameterStore(m, Precision.FLOAT32, LossScale.NONE, one, new boolean[] {true, true}, init);
        store.freshLeaves(false);
        Conv2dRule.Forward op = new Conv2dRule.Forward(
                conv,
                store,
                new Constants(m, Precision.FLOAT32),
                norm,
                Conv2dRule.unfoldPath(conv, RuleOptions.Unfold.AUTO),
                Conv2dRule.fusedFormation(conv, RuleOptions.Unfold.AUTO),
                Conv2dRule.oneCall(conv, RuleOptions.Unfold.AUTO));
        Tape tape = new Tape(m, slots, 1);
        TapScope.run(
                () -> ModelRuntime.withGrad(() -> {
                    NDArray x = m.create(xs, new ai.djl.ndarray.types.Shape(slots, conv.in(), size, size));
                    NDArray y = op.forward(x, tape);
                    NDArray loss = y.mul(m.create(rs, y.getShape())).sum();
                    JniUtils.backward(
                            (PtNDArray) loss, (PtNDArray) m.ones(loss.getShape(), loss.getDataType()), false, false);
                    return y;
                }),
                () -> tape.taps().get(0).harvest());
        return tape.taps().get(0);
    }

    /** A network of {@code conv} on a [conv.in(), size, size] input, then tanh and a linear head of 3 outputs. */
    static Network withHead(String name, Layer.Conv2d conv, int size) {
        Shape input = new Shape(conv.in(), size, size);
        return new Network(
                name,
                input,
                3,
                List.of(
                        conv,
                        new Layer.Activation(Layer.ActivationKind.TANH),
                        new Layer.Flatten(),
                        new Layer.Linear("head", conv.outputShape(input).size(), 3, true)));
    }
}
