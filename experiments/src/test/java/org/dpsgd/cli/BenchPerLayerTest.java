package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dpsgd.backend.Backend;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.Backends;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.dpsgd.noise.NoiseSource;
import org.junit.jupiter.api.Test;

/** dpsgd bench's "+per_layer" variants run per-layer clipping and scale the noise by the policy's sensitivity (= C). */
class BenchPerLayerTest {
    private static final class RecordingNoise implements NoiseSource {
        final List<Double> stds = new ArrayList<>();

        @Override
        public void addGaussian(float[] v, int from, int to, double std) {
            stds.add(std);
        }

        @Override
        public void addGaussian(double[] v, int from, int to, double std) {
            stds.add(std);
        }

        @Override
        public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
            stds.add(std);
        }

        @Override
        public boolean isSecure() {
            return true;
        }

        @Override
        public Long exportState() {
            return null;
        }

        @Override
        public void restoreState(long calls) {}

        @Override
        public String mode() {
            return "test";
        }
    }

    @Test
    void perLayerVariantsRunBesideFlatWithTheSameNoise() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10);
        RecordingNoise noise = new RecordingNoise();
        try (Backend backend = Backends.select("djl", s -> {}).open(new BackendOptions("cpu", Map.of()))) {
            BenchRun run = new BenchRun(backend, net, BenchCommand.randomBatch(net, 4), noise, 1.5, 0.8, Map.of());
            List<BenchResult> r = run.run(
                    List.of("auto", "auto+per_layer", "microbatch+per_layer"), BenchRun.WarmUp.fixed(0), 2, 1, s -> {});
            assertEquals(
                    List.of("auto", "auto+per_layer", "microbatch+per_layer"),
                    r.stream().map(BenchResult::strategy).toList());
            for (BenchResult b : r) assertTrue(b.medianMs() > 0);
            assertEquals(3 * (1 + 2), noise.stds.size(), "one untimed first step and two timed steps per strategy");
            for (double s : noise.stds) assertEquals(1.5 * 0.8, s, 1e-12);
        }
    }
}
