package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reference strategy against an independent oracle: the per-sample gradient by central finite
 * differences of the loss (evaluate(), no autograd) on a tiny float64 network that uses every layer kind.
 */
class MicrobatchOracleTest {
    static Network tiny() {
        List<Layer> main = List.of(
                new Layer.Conv2d("r.conv", 2, 2, 3, 1, 1, false, true), new Layer.GroupNorm("r.gn", 2, 2, 1e-5));
        return new Network(
                "tiny",
                new Shape(1, 6, 6),
                3,
                List.of(
                        new Layer.Conv2d("conv1", 1, 2, 3, 1, 1, true, false),
                        new Layer.GroupNorm("gn1", 2, 1, 1e-5),
                        new Layer.Activation(Layer.ActivationKind.TANH),
                        new Layer.Residual("r", main, List.of()),
                        new Layer.MaxPool2d(2, 2, 0),
                        new Layer.Conv2d("conv2", 2, 3, 2, 1, 0, false, true),
                        new Layer.Activation(Layer.ActivationKind.RELU),
                        new Layer.GlobalAvgPool(),
                        new Layer.Flatten(),
                        new Layer.Linear("fc", 3, 3, true)));
    }

    @ParameterizedTest(name = "K={0}")
    @ValueSource(ints = {1, 2})
    void gradientMatchesFiniteDifferences(int copies) {
        Network net = tiny();
        int n = (int) net.parameterCount();
        DeviceBatch one = TestSupport.batch(net, 2, copies, 3, 1.0, 0); // only slot 1 is real
        try (DjlTrainableModel m = TestSupport.model(net, "microbatch", "float64", List.of())) {
            float[] w = new float[n];
            m.readParameters(w);
            m.accumulateClipped(one, 1e30);
            float[] grad = new float[n];
            m.drainGradientSum(grad);
            double[] fd = new double[n];
            for (int j = 0; j < n; j++) {
                float[] plus = w.clone();
                float[] minus = w.clone();
                plus[j] = (float) (w[j] + 1e-3);
                minus[j] = (float) (w[j] - 1e-3);
                m.writeParameters(plus);
                double lp = m.evaluate(one).lossSum();
                m.writeParameters(minus);
                double lm = m.evaluate(one).lossSum();
                fd[j] = (lp - lm) / ((double) plus[j] - (double) minus[j]);
            }
            m.writeParameters(w);
            double num = 0;
            double den = 0;
            for (int j = 0; j < n; j++) {
                num += (grad[j] - fd[j]) * (grad[j] - fd[j]);
                den += fd[j] * fd[j];
            }
            assertTrue(den > 1e-6, "the oracle gradient is not trivially zero");
            assertTrue(Math.sqrt(num / den) < 1e-5, "relative error vs finite differences " + Math.sqrt(num / den));
            // and the reported norm is the norm of that gradient
            double norm = m.perSampleGradientNorms(one)[1];
            assertEquals(Math.sqrt(den), norm, 1e-5 * norm);
        }
    }
}
