package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.IdxDataset;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * DP-SGD with the book-keeping strategy learns: small-cnn on a 6,000-image Fashion-MNIST subset,
 * Poisson sampling (q = 256/6000), σ = 1, C = 1, one epoch, then test accuracy on 1,000 test images
 * must be far above chance (10%). Sampling and noise here use a seeded generator (a test, not a
 * private run); the real trainer lives in common.
 */
class FashionMnistLearningTest {
    static final Path DATA = Path.of("/usr/share/datasets/fashion-mnist");

    @Test
    void oneEpochOfDpSgdLearns() {
        Assumptions.assumeTrue(
                Files.isDirectory(DATA),
                "Fashion-MNIST is not installed at " + DATA + " (apt-get install dataset-fashion-mnist)");
        Dataset train = IdxDataset.open(DATA, true);
        Dataset test = IdxDataset.open(DATA, false);
        int n = 6000;
        double q = 256.0 / n;
        double sigma = 1.0;
        double clip = 1.0;
        double lr = 2.0;
        double momentum = 0.9;
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), train.shape(), 10);
        int p = (int) net.parameterCount();
        SplittableRandom rng = new SplittableRandom(2024);
        try (DjlTrainableModel m = TestSupport.model(net, "auto", "float32", List.of())) {
            float[] w = new float[p];
            float[] g = new float[p];
            float[] velocity = new float[p];
            m.readParameters(w);
            DeviceBatch b = new DeviceBatch(train.shape(), 64, 1);
            int steps = (int) Math.round(1 / q);
            for (int step = 0; step < steps; step++) {
                List<Integer> sample = new ArrayList<>();
                for (int i = 0; i < n; i++) if (rng.nextDouble() < q) sample.add(i);
                for (int from = 0; from < sample.size(); from += b.slots()) {
                    fill(b, train, sample, from);
                    m.accumulateClipped(b, clip);
                }
                m.drainGradientSum(g);
                for (int i = 0; i < p; i++) {
                    double noisy = (g[i] + sigma * clip * TestSupport.gaussian(rng)) / (q * n);
                    velocity[i] = (float) (momentum * velocity[i] + noisy);
                    w[i] -= (float) (lr * velocity[i]);
                }
                m.writeParameters(w);
            }
            List<Integer> testIdx = new ArrayList<>();
            for (int i = 0; i < 1000; i++) testIdx.add(i);
            BatchStats total = BatchStats.EMPTY;
            for (int from = 0; from < testIdx.size(); from += b.slots()) {
                fill(b, test, testIdx, from);
                total = total.plus(m.evaluate(b));
            }
            System.out.printf(
                    "small-cnn, one DP epoch (sigma=%.1f, C=%.1f): test accuracy %.3f%n",
                    sigma, clip, total.accuracy());
            assertTrue(total.samples() == 1000);
            assertTrue(total.accuracy() > 0.5, "test accuracy after one DP epoch is only " + total.accuracy());
        }
    }

    private static void fill(DeviceBatch b, Dataset d, List<Integer> idx, int from) {
        b.clear();
        for (int s = 0; s < b.slots() && from + s < idx.size(); s++) {
            int e = idx.get(from + s);
            d.read(e, b.inputs(), b.inputOffset(s, 0));
            b.labels()[s] = d.label(e);
            b.mask()[s] = 1f;
            b.exampleIds()[s] = e;
        }
    }
}
