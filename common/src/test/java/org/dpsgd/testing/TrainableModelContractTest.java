package org.dpsgd.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

class TrainableModelContractTest {
    private static final Shape SHAPE = new Shape(2, 2, 2);
    private static final InMemoryDataset DATA = SyntheticData.blobs(20, SHAPE, 3, 2, 0.5, 4);

    private static LogisticRegressionModel model() {
        float[] p = new float[3 * 8 + 3];
        for (int i = 0; i < p.length; i++) p[i] = (float) Math.sin(i);
        return new LogisticRegressionModel(SHAPE, 3, null, p);
    }

    @Test
    void theReferenceModelMeetsTheContract() {
        TrainableModelContract.checkAll(model(), DATA, 6, 2, 0.3, 1e-6);
        TrainableModelContract.checkAll(model(), DATA, 1, 1, 100, 1e-6);
    }

    /** A model that (wrongly) treats padding as real must be caught. */
    @Test
    void aModelThatIgnoresTheMaskIsCaught() {
        TrainableModel leaky = new ForwardingTrainableModel(model()) {
            @Override
            public BatchStats accumulateClipped(DeviceBatch b, double c) {
                java.util.Arrays.fill(b.mask(), 1f);
                return super.accumulateClipped(b, c);
            }

            @Override
            public void close() {}
        };
        AssertionError e =
                assertThrows(AssertionError.class, () -> TrainableModelContract.checkAll(leaky, DATA, 4, 1, 0.3, 1e-6));
        // the padded slots of the batch-of-one loop leak in, so the "one" gradient is the sum of several clipped ones
        assertTrue(
                e.getMessage().contains("exceeds C")
                        || e.getMessage().contains("masked")
                        || e.getMessage().contains("padding"),
                e.getMessage());
    }
}
