package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link SlotPositionTest} at the sizes runs use: a whole call of real examples, each moved one slot on, at two
 * threads; every example's norm must keep its bits (docs/core.md, "Float margin" item 2). Slot counts that are and
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
            DeviceBatch batch = TestSupport.batch(net, slots, 1, 5, 1.0);
            DeviceBatch rolled = new DeviceBatch(net.input(), slots, 1);
            int per = batch.inputs().length / slots;
            for (int s = 0; s < slots; s++) {
                int t = (s + 1) % slots;
                System.arraycopy(batch.inputs(), s * per, rolled.inputs(), t * per, per);
                rolled.labels()[t] = batch.labels()[s];
                rolled.mask()[t] = 1f;
                rolled.exampleIds()[t] = t;
            }
            double[] here = m.perSampleGradientNorms(batch);
            double[] there = m.perSampleGradientNorms(rolled);
            for (int s = 0; s < slots; s++)
                assertEquals(
                        Double.doubleToLongBits(here[s]),
                        Double.doubleToLongBits(there[(s + 1) % slots]),
                        "slot " + s + ": " + here[s] + " vs " + there[(s + 1) % slots]);
        } finally {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(before);
        }
    }
}
