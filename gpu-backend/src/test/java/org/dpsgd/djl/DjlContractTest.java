package org.dpsgd.djl;

import java.util.List;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.TrainableModelContract;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backend-neutral {@link TrainableModelContract} (clipped sum = the batch-of-one loop through the
 * same static shape, padding contributes nothing, drain zeroes the accumulator) on every private DJL
 * strategy × dtype. Tolerances: 1e-9 in float64; 1e-4 in float32, where a pre-activation within
 * float32 rounding of zero can flip a ReLU between the batched and the one-slot pass.
 */
class DjlContractTest {
    @ParameterizedTest(name = "{0} {1} {2} K={3}")
    @CsvSource({
        "bookkeeping,float64,small-cnn,1",
        "bookkeeping,float64,small-cnn,2",
        "microbatch,float64,small-cnn,1",
        "bookkeeping,float32,small-cnn,1",
        "microbatch,float32,small-cnn,1",
        "bookkeeping,float64,fmnist-cnn,1",
        "microbatch,float64,fmnist-cnn,1",
        "bookkeeping,float64,resnet18-gn,1"
    })
    void honoursTheContract(String strategy, String dtype, String model, int multiplicity) {
        Shape shape = model.startsWith("resnet")
                ? Shape.parse("3x16x16")
                : model.equals("fmnist-cnn") ? Shape.parse("1x28x28") : Shape.parse("1x12x12");
        ModelSpec spec = model.startsWith("resnet") ? ModelSpec.of(model).withStem("cifar") : ModelSpec.of(model);
        Network net = ModelZoo.build(spec, shape, 4);
        Dataset data = SyntheticData.blobs(32, shape, 4, 1.0, 0.5, 3);
        try (DjlTrainableModel m = TestSupport.model(net, strategy, dtype, List.of())) {
            TrainableModelContract.checkAll(m, data, 6, multiplicity, 0.05, dtype.equals("float64") ? 1e-9 : 1e-4);
        }
    }
}
