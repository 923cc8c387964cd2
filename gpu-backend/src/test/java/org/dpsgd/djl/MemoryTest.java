package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Many calls leave the number of live arrays unchanged: every temporary is scoped to its call. */
class MemoryTest {
    @ParameterizedTest
    @ValueSource(strings = {"bookkeeping", "microbatch"})
    void repeatedCallsDoNotGrowLiveArrays(String strategy) {
        Network net = ModelZoo.build(new ModelSpec("small-cnn", null, null, null, true), Shape.parse("1x12x12"), 10);
        DeviceBatch b = TestSupport.batch(net, 4, 2, 1, 1.0, 3);
        float[] g = new float[(int) net.parameterCount()];
        try (DjlTrainableModel m = TestSupport.model(net, strategy, "float32", List.of("conv1"))) {
            cycle(m, b, g);
            int before = m.liveArrays();
            for (int i = 0; i < 15; i++) cycle(m, b, g);
            assertEquals(before, m.liveArrays(), "live arrays grew over 15 training cycles");
        }
    }

    private static void cycle(DjlTrainableModel m, DeviceBatch b, float[] g) {
        m.accumulateClipped(b, 1.0);
        m.accumulateUnclipped(b);
        m.perSampleGradientNorms(b);
        m.evaluate(b);
        m.drainGradientSum(g);
        m.accumulateUnclipped(b); // a kept float32 gradient drained as doubles
        m.drainGradientSum(new double[g.length]);
        m.readParameters(g);
        m.writeParameters(g);
    }
}
