package org.dpsgd.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dpsgd.backend.DeviceSgd;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.testing.ForwardingTrainableModel;
import org.dpsgd.testing.LogisticRegressionModel;
import org.dpsgd.testing.SyntheticData;
import org.dpsgd.testing.UnamplifiedRdpAccountant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trainer's use of a model's device update ({@link org.dpsgd.backend.TrainableModel#deviceSgd}) for the
 * non-private baseline, on a model whose "device" update is the plain-SGD formula written out here (so
 * that, with the same float arithmetic, the two paths must agree bit for bit): whole runs, evaluation,
 * snapshots and resumes equal the host path's; the device path really ran (no drain, no parameter write
 * per step); runs that need more than plain SGD, and every private run, keep the host path.
 */
class DeviceSgdTrainerTest {
    private static final Shape SHAPE = new Shape(1, 4, 4);
    private static final InMemoryDataset TRAIN = SyntheticData.blobs(400, SHAPE, 3, 1.0, 0.3, 1);
    private static final InMemoryDataset TEST =
            SyntheticData.blobs(400, SHAPE, 3, 1.0, 0.3, 1).limit(200);
    private static final String YAML = """
            seed: 5
            model: {name: small-cnn}
            data: {format: synthetic, loader_threads: 2}
            privacy: {enabled: false, clip_norm: 1.0, noise_multiplier: 1.0, delta: 1e-4, noise: fast-insecure}
            training: {batch_size: 40, steps: 30, micro_batch_size: 8}
            optimizer: {name: sgd, lr: 0.7, schedule: cosine}
            """;

    /**
     * A model that counts the trainer's drains and writes and, when {@code offer}, has a "device" update:
     * the host path's arithmetic (g = float(S·(1/L)), p = float(p − lr·g)) applied behind the trainer's
     * back, straight on the wrapped model.
     */
    static final class CountingModel extends ForwardingTrainableModel {
        final boolean offer;
        int drains;
        int writes;
        int deviceSteps;

        CountingModel(boolean offer) {
            super(LogisticRegressionModel.zeros(SHAPE, 3));
            this.offer = offer;
        }

        @Override
        public void drainGradientSum(float[] into) {
            drains++;
            super.drainGradientSum(into);
        }

        @Override
        public void writeParameters(float[] from) {
            writes++;
            super.writeParameters(from);
        }

        @Override
        public Optional<DeviceSgd> deviceSgd() {
            if (!offer) return Optional.empty();
            return Optional.of((realized, lr) -> {
                deviceSteps++;
                int n = Math.toIntExact(network().parameterCount());
                float[] sum = new float[n];
                float[] p = new float[n];
                delegate().drainGradientSum(sum);
                delegate().readParameters(p);
                for (int i = 0; i < n; i++) {
                    double g = (float) (sum[i] * (1.0 / realized));
                    p[i] = (float) (p[i] - lr * g);
                }
                delegate().writeParameters(p);
            });
        }
    }

    private static ExperimentConfig config(Map<String, String> overrides) {
        return ConfigLoader.applyOverrides(ConfigLoader.parse(YAML, "test.yaml"), overrides);
    }

    private static DpSgdTrainer trainer(ExperimentConfig c, CountingModel m, List<String> log) {
        return DpSgdTrainer.builder(c, TRAIN, m)
                .accountants(UnamplifiedRdpAccountant::new)
                .log(log::add)
                .build();
    }

    /** Batch size 2 of 400 draws empty batches too (no update, the empty sum drained). */
    @ParameterizedTest
    @ValueSource(ints = {40, 2})
    void deviceAndHostPathsRunTheSameTrainingBitForBit(int batchSize) {
        ExperimentConfig c = config(Map.of("training.batch_size", Integer.toString(batchSize)));
        CountingModel onDevice = new CountingModel(true);
        CountingModel onHost = new CountingModel(false);
        List<String> deviceLog = new ArrayList<>();
        List<String> hostLog = new ArrayList<>();
        try (DpSgdTrainer d = trainer(c, onDevice, deviceLog);
                DpSgdTrainer h = trainer(c, onHost, hostLog)) {
            int empty = 0;
            while (h.canStep()) {
                StepResult rh = h.step();
                StepResult rd = d.step();
                assertEquals(rh.batchSize(), rd.batchSize());
                if (rh.batchSize() == 0) empty++;
                assertArrayEquals(h.parameters(), d.parameters(), "step " + rh.step());
            }
            assertEquals(30, onHost.drains);
            assertEquals(30, onHost.writes);
            assertEquals(0, onHost.deviceSteps);
            // The device path drains only the empty steps' sums and writes parameters back only then.
            assertEquals(30 - empty, onDevice.deviceSteps);
            assertEquals(empty, onDevice.drains);
            assertEquals(empty, onDevice.writes);
            if (batchSize == 2) assertTrue(empty > 0, "some steps drew no example");
            Evaluation eh = h.evaluate(TEST);
            Evaluation ed = d.evaluate(TEST);
            assertEquals(eh.model().lossSum(), ed.model().lossSum());
            assertEquals(eh.model().correct(), ed.model().correct());
            assertArrayEquals(h.snapshot().parameters(), d.snapshot().parameters());
            if (batchSize == 40)
                assertTrue(
                        ed.model().accuracy() > 0.9, "it learned: " + ed.model().accuracy());
        }
        assertTrue(deviceLog.contains("non-private update: plain SGD in place on the device"), deviceLog.toString());
        assertTrue(
                hostLog.contains("non-private update: on the host (the backend has no device update)"),
                hostLog.toString());
    }

    /** A snapshot taken after device steps holds the live parameters; restoring it continues bit for bit. */
    @Test
    void snapshotAndResumeSeeTheDeviceUpdatedParameters() throws Exception {
        ExperimentConfig c = config(Map.of());
        List<String> log = new ArrayList<>();
        float[] whole;
        try (DpSgdTrainer t = trainer(c, new CountingModel(true), log)) {
            while (t.canStep()) t.step();
            whole = t.parameters();
        }
        ObjectMapper json = new ObjectMapper();
        TrainerState saved;
        CountingModel first = new CountingModel(true);
        try (DpSgdTrainer t = trainer(c, first, log)) {
            for (int i = 0; i < 11; i++) t.step();
            saved = json.readValue(json.writeValueAsString(t.snapshot()), TrainerState.class);
            float[] live = new float[saved.parameters().length];
            first.readParameters(live);
            assertArrayEquals(live, saved.parameters(), "the snapshot holds the model's current parameters");
            assertTrue(!java.util.Arrays.equals(live, new float[live.length]), "the steps moved the parameters");
        }
        CountingModel second = new CountingModel(true);
        try (DpSgdTrainer t = trainer(c, second, log)) {
            t.restore(saved);
            while (t.canStep()) t.step();
            assertArrayEquals(whole, t.parameters());
            assertEquals(19, second.deviceSteps);
        }
    }

    /** Whatever plain SGD on every coordinate in one process cannot do keeps the host path, and says why. */
    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "optimizer.momentum=0.5|SGD with momentum or weight decay",
                "optimizer.weight_decay=0.01|SGD with momentum or weight decay",
                "optimizer.name=adam|optimizer adam",
                "training.ema=0.9|training.ema",
                "frozen|frozen parameters"
            })
    void runsThatNeedMoreKeepTheHostPath(String setting, String reason) {
        Map<String, String> o =
                setting.equals("frozen") ? Map.of() : Map.of(setting.split("=")[0], setting.split("=")[1]);
        CountingModel m = new CountingModel(true);
        List<String> log = new ArrayList<>();
        try (DpSgdTrainer t = DpSgdTrainer.builder(config(o), TRAIN, m)
                .frozenPrefixes(setting.equals("frozen") ? List.of("fc.bias") : List.of())
                .log(log::add)
                .build()) {
            for (int i = 0; i < 3; i++) t.step();
        }
        assertEquals(0, m.deviceSteps);
        assertEquals(3, m.drains);
        assertTrue(log.contains("non-private update: on the host (" + reason + ")"), log.toString());
    }

    /**
     * A private run never asks for the device update (its noise is added on the host) and computes what it
     * computes on a model without one, bit for bit.
     */
    @Test
    void privateRunsNeverTakeTheDevicePath() {
        ExperimentConfig c = config(Map.of("privacy.enabled", "true", "training.steps", "8"));
        CountingModel offering = new CountingModel(true);
        CountingModel plain = new CountingModel(false);
        List<String> log = new ArrayList<>();
        try (DpSgdTrainer a = trainer(c, offering, log);
                DpSgdTrainer b = trainer(c, plain, log)) {
            while (a.canStep()) {
                a.step();
                b.step();
            }
            assertArrayEquals(b.parameters(), a.parameters());
        }
        assertEquals(0, offering.deviceSteps);
        assertEquals(8, offering.writes);
        assertTrue(log.stream().noneMatch(l -> l.startsWith("non-private update")), log.toString());
    }
}
