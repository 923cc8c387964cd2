package org.dpsgd.train;

import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.data.BatchAssembler;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.Shape;

/** Test-set loss and accuracy of a model in fixed-shape device calls (no sampling, no privacy cost). */
final class Evaluator {
    private final TrainableModel model;
    private final Shape shape;
    private final int slots;
    private final int loaderThreads;

    Evaluator(TrainableModel model, Shape shape, int slots, int loaderThreads) {
        this.model = model;
        this.shape = shape;
        this.slots = slots;
        this.loaderThreads = loaderThreads;
    }

    /** Loss and accuracy of the parameters currently on the model. */
    BatchStats evaluate(Dataset test) {
        if (!test.shape().equals(shape)) {
            throw new IllegalArgumentException(
                    "test set shape " + test.shape() + " differs from the training set's " + shape);
        }
        DeviceBatch eval = new DeviceBatch(test.shape(), slots, 1);
        try (BatchAssembler plain = new BatchAssembler(test, AugmentationConfig.NONE, 0, loaderThreads)) {
            BatchStats total = BatchStats.EMPTY;
            int[] ids = new int[slots];
            for (int start = 0; start < test.size(); start += slots) {
                for (int k = 0; k < slots; k++) ids[k] = start + k < test.size() ? start + k : -1;
                plain.assemblePlain(ids, eval);
                total = total.plus(model.evaluate(eval));
            }
            return total;
        }
    }
}
