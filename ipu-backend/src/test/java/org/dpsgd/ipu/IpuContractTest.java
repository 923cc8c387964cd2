package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.Initializer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.TrainableModelContract;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backend-neutral {@link TrainableModelContract} on the IPU graph (clipped sum = the batch-of-one
 * loop through the same compiled shape, padding with finite garbage contributes nothing, drain zeroes
 * the accumulator), fp32 and fp16. Runs only where the IPU backend is available (an IPU, or the IPU
 * Model with the SDK); skipped with the availability reason elsewhere.
 */
class IpuContractTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fp32", "fp16"})
    void honoursTheContract(String precision) {
        IpuBackendProvider provider = new IpuBackendProvider();
        Availability a = provider.availability();
        assumeTrue(a.available(), "IPU backend unavailable here: " + a.reason());
        Shape shape = Shape.parse("1x12x12");
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), shape, 4);
        Dataset data = SyntheticData.blobs(32, shape, 4, 1.0, 0.5, 3);
        try (Backend ipu = provider.open(new BackendOptions("ipu", Map.of("precision", precision)));
                TrainableModel m =
                        ipu.createModel(net, new ModelOptions("auto", new BatchLayout(1, 6, 1), List.of(), Map.of()))) {
            m.writeParameters(Initializer.initialize(net, 3));
            TrainableModelContract.checkAll(m, data, 6, 1, 0.05, precision.equals("fp32") ? 1e-4 : 2e-2);
        }
    }
}
