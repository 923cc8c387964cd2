package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.train.SlotInvarianceCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link SlotPositionTest} at the sizes runs use, through the trainer's own check ({@link SlotInvarianceCheck}): a
 * whole call of examples, the same call again, then each example moved one slot on, at two threads; every norm must
 * keep its bits (docs/core.md, "Float margin" item 2). Slot counts that are and
 * are not multiples of MKL's blocks; the demo's model at its input size.
 */
class SlotRollTest {
    @ParameterizedTest(name = "{0} {1}, {2} slots, 2 threads")
    @CsvSource({"fmnist-cnn,1x28x28,64", "small-cnn,1x28x28,61", "resnet18-gn,3x32x32,37"})
    void everyExampleMovedOneSlotOnKeepsItsNorm(String model, String input, int slots) {
        TestSupport.backend();
        assumeTrue(TestSupport.mklHasStrictMode(), "MKL documents its strict mode for Intel CPUs only");
        Network net = ModelZoo.build(ModelSpec.of(model), Shape.parse(input), 10);
        int before = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(2);
        try (DjlTrainableModel m = TestSupport.model(net, "auto", "float32", List.of())) {
            // the trainer's own check (PrivateTraining runs it before a private run's first step), on the real model
            SlotInvarianceCheck.Result r = SlotInvarianceCheck.run(m, net, slots, 1);
            assertEquals(new SlotInvarianceCheck.Result(0, slots, 0), r, r.toString());
        } finally {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(before);
        }
    }
}
