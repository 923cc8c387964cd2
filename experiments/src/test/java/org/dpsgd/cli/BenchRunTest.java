package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** Background noise is charged to the block of steps that started it, never to another strategy. */
class BenchRunTest {
    /** Noise whose background work takes {@code waitMs} to finish after each draw, counting the draws. */
    private static final class SlowBackgroundNoise implements NoiseSource {
        final long waitMs;
        int draws;
        int pending;

        SlowBackgroundNoise(long waitMs) {
            this.waitMs = waitMs;
        }

        @Override
        public void addGaussian(float[] v, int from, int to, double std) {
            draws++;
            pending = 1;
        }

        @Override
        public void addGaussian(double[] v, int from, int to, double std) {
            draws++;
            pending = 1;
        }

        @Override
        public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
            draws++;
            pending = 1;
        }

        @Override
        public void awaitPrefetch() {
            if (pending == 0) return;
            pending = 0;
            try {
                Thread.sleep(waitMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
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
    void aBlockWaitsForItsOwnBackgroundNoiseAndChargesItToItself() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10);
        SlowBackgroundNoise noise = new SlowBackgroundNoise(200);
        try (Backend backend = Backends.select("djl", s -> {}).open(new BackendOptions("cpu", Map.of()))) {
            BenchRun run = new BenchRun(backend, net, BenchCommand.randomBatch(net, 4), noise, 1.0, 1.0, Map.of());
            List<BenchResult> r = run.run(List.of("nonprivate", "auto"), BenchRun.WarmUp.fixed(0), 4, 2, s -> {});
            BenchResult nonPrivate = r.get(0);
            BenchResult auto = r.get(1);
            assertEquals(1 + 4, noise.draws, "one warm-up draw and four timed draws, all by auto");
            // Each block of two auto steps ends with one 200 ms wait: 100 ms per step, and none for nonprivate.
            assertTrue(auto.noiseMedianMs() >= 100, "auto noise " + auto.noiseMedianMs());
            assertTrue(auto.medianMs() >= 100, "auto step " + auto.medianMs());
            // Charged, it would carry at least 100 ms of noise per step; uncharged, only an empty await.
            assertTrue(nonPrivate.noiseMedianMs() < 50, "nonprivate charged " + nonPrivate.noiseMedianMs());
            assertThrows(
                    IllegalArgumentException.class,
                    () -> run.run(List.of("auto"), BenchRun.WarmUp.fixed(0), 1, 0, s -> {}));
        }
    }
}
