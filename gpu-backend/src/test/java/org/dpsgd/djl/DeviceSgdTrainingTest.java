package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.dpsgd.train.DpSgdTrainer;
import org.dpsgd.train.Evaluation;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Non-private training through {@link DpSgdTrainer} on the DJL backend with the device update, against the
 * same run with the host update (the same model type behind a wrapper that hides the capability), over
 * several steps of two device calls each (so the float64 accumulator path runs too): in float64 the
 * parameters, the snapshot and the evaluation are equal bit for bit; in float32 the parameters agree to
 * the fused pass's rounding (DeviceSgdTest bounds one step at about one float32 ulp of each parameter;
 * the tolerance here, 1e-5 of the largest parameter, leaves room for those differences to feed back
 * through the gradients of the later steps; 1.2e-7, one ulp at 1, was seen) while a wrong update (lr,
 * divisor, a skipped tensor) moves coordinates by the update itself, checked to be 100 times the tolerance.
 */
class DeviceSgdTrainingTest {
    private static final String YAML = """
            seed: 3
            model: {name: small-cnn}
            data: {format: synthetic, loader_threads: 1}
            privacy: {enabled: false, noise: fast-insecure}
            training: {batch_size: 12, steps: 4, micro_batch_size: 8}
            optimizer: {name: sgd, lr: 0.2, schedule: cosine}
            """;

    @ParameterizedTest
    @CsvSource({"small-cnn,1x12x12,float32", "small-cnn,1x12x12,float64", "resnet18-gn,3x8x8,float32"})
    void deviceUpdateTrainsAsTheHostUpdate(String model, String input, String precision) {
        Shape shape = Shape.parse(input);
        Network net = ModelZoo.build(ModelSpec.of(model), shape, 3);
        InMemoryDataset train = SyntheticData.blobs(60, shape, 3, 1.0, 0.5, 2);
        InMemoryDataset test = SyntheticData.blobs(60, shape, 3, 1.0, 0.5, 2).limit(16);
        ExperimentConfig c =
                ConfigLoader.applyOverrides(ConfigLoader.parse(YAML, "t.yaml"), Map.of("model.name", model));
        List<String> log = new ArrayList<>();
        try (DjlTrainableModel dm = TestSupport.model(net, "nonprivate", precision, List.of());
                DjlTrainableModel hm = TestSupport.model(net, "nonprivate", precision, List.of());
                DpSgdTrainer d = DpSgdTrainer.builder(c, train, dm)
                        .accountants(UnamplifiedRdpAccountant::new)
                        .log(log::add)
                        .build();
                DpSgdTrainer h = DpSgdTrainer.builder(c, train, new ForwardingTrainableModel(hm))
                        .accountants(UnamplifiedRdpAccountant::new)
                        .log(log::add)
                        .build()) {
            float[] start = h.parameters();
            int calls = 0;
            while (h.canStep()) {
                assertEquals(h.step().batchSize(), d.step().batchSize());
                calls++;
            }
            float[] ph = h.parameters();
            float[] pd = d.parameters();
            float[] live = new float[pd.length];
            dm.readParameters(live);
            assertArrayEquals(live, pd, "the trainer reports the model's live parameters");
            assertArrayEquals(pd, d.snapshot().parameters());
            double largest = 0, largestUpdate = 0;
            for (int i = 0; i < ph.length; i++) {
                largest = Math.max(largest, Math.abs(ph[i]));
                largestUpdate = Math.max(largestUpdate, Math.abs(ph[i] - start[i]));
            }
            if (precision.equals("float64")) {
                assertArrayEquals(ph, pd);
                Evaluation eh = h.evaluate(test);
                Evaluation ed = d.evaluate(test);
                assertEquals(eh.model().lossSum(), ed.model().lossSum());
            } else {
                double worst = 0;
                for (int i = 0; i < ph.length; i++) worst = Math.max(worst, Math.abs(ph[i] - pd[i]));
                System.out.printf(
                        "%s float32: max |device - host| %.3g, largest |p| %.3g, largest update %.3g%n",
                        model, worst, largest, largestUpdate);
                assertTrue(worst <= 1e-5 * largest, "max difference " + worst + " vs largest parameter " + largest);
                assertTrue(largestUpdate > 100 * 1e-5 * largest, "the updates dwarf the tolerance: " + largestUpdate);
            }
            assertTrue(TestSupport.relativeError(start, ph) > 1e-3, "training moved the parameters");
            assertEquals(4, calls);
        }
        assertTrue(log.contains("non-private update: plain SGD in place on the device"), log.toString());
        assertTrue(log.contains("non-private update: on the host (the backend has no device update)"), log.toString());
    }
}
