package org.dpsgd.ipu;

import java.util.List;
import java.util.Map;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.Dataset;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.TrainableModelContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backend-neutral {@link TrainableModelContract} on the IPU plan executed by DJL: one device call holds the
 * IPU layout's slots (micro-batch × accumulation × replicas, in {@link BatchLayout#slot} order), run through DJL's
 * strategies with that layout. This is the host side of the IPU path that runs everywhere; the same contract on
 * the compiled graph is {@link IpuContractTest}, which needs an IPU or the IPU Model. Tolerances as in the DJL
 * contract: 1e-9 in float64, 1e-4 in float32.
 */
class IpuPlanContractTest {
    private static Backend djl;

    @BeforeAll
    static void openDjl() {
        djl = Backends.select("djl", msg -> {}).open(BackendOptions.cpu());
    }

    @AfterAll
    static void closeDjl() {
        if (djl != null) djl.close();
    }

    @ParameterizedTest(name = "{0} {1} m={2} A={3} R={4} K={5}")
    @CsvSource({
        "microbatch,float64,1,4,2,1", // NanoBatch: one example per replica per call
        "microbatch,float64,2,3,2,1",
        "microbatch,float64,3,2,2,2", // augmentation multiplicity 2
        "bookkeeping,float64,2,2,2,1",
        "microbatch,float32,1,4,2,1",
        "bookkeeping,float32,2,3,2,1"
    })
    void thePlanHonoursTheContract(String strategy, String dtype, int micro, int accumulation, int replicas, int k) {
        Shape shape = Shape.parse("1x12x12");
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), shape, 4);
        Dataset data = SyntheticData.blobs(32, shape, 4, 1.0, 0.5, 3);
        BatchLayout layout = new BatchLayout(micro, accumulation, replicas);
        try (TrainableModel m = djl.createModel(
                net, new ModelOptions(strategy, layout, List.of(), Map.of("dtype", dtype, "seed", "3")))) {
            TrainableModelContract.checkAll(
                    m, data, layout.slotsPerCall(), k, 0.05, dtype.equals("float64") ? 1e-9 : 1e-4);
        }
    }
}
