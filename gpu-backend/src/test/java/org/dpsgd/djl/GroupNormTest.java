package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The layer-norm-based GroupNorm against a direct double-precision computation. */
class GroupNormTest {
    @ParameterizedTest(name = "C={0} G={1} {2}")
    @CsvSource({"4,2,float64,1e-12", "6,3,float32,2e-5", "8,1,float64,1e-12", "8,8,float32,2e-5"})
    void matchesDirectComputation(int channels, int groups, String dtype, double tol) {
        Shape in = new Shape(channels, 3, 2);
        Network net = new Network(
                "gn", in, in.size(), List.of(new Layer.GroupNorm("gn", channels, groups, 1e-5), new Layer.Flatten()));
        SplittableRandom r = new SplittableRandom(channels * 31L + groups);
        float[] params = new float[2 * channels];
        for (int i = 0; i < params.length; i++) params[i] = (float) TestSupport.gaussian(r);
        DeviceBatch b = TestSupport.batch(net, 3, 1, 17, 2.0);
        for (int i = 0; i < b.inputs().length; i++) b.inputs()[i] += 1.5f; // non-zero mean
        try (DjlTrainableModel m = TestSupport.model(net, "auto", dtype, List.of())) {
            m.writeParameters(params);
            double[] got = m.logits(b);
            double[] want = direct(b, channels, groups, params, 1e-5);
            assertTrue(
                    TestSupport.maxRelativeError(got, want) < tol || maxAbs(got, want) < tol,
                    "max abs error " + maxAbs(got, want));
        }
    }

    static double[] direct(DeviceBatch b, int c, int g, float[] params, double eps) {
        int hw = b.shape().height() * b.shape().width();
        int per = c / g * hw;
        double[] out = new double[b.inputs().length];
        for (int s = 0; s < b.slots(); s++) {
            for (int grp = 0; grp < g; grp++) {
                int base = s * c * hw + grp * per;
                double mean = 0;
                for (int i = 0; i < per; i++) mean += b.inputs()[base + i];
                mean /= per;
                double var = 0;
                for (int i = 0; i < per; i++) var += (b.inputs()[base + i] - mean) * (b.inputs()[base + i] - mean);
                var /= per;
                for (int i = 0; i < per; i++) {
                    int ch = grp * (c / g) + i / hw;
                    out[base + i] = (b.inputs()[base + i] - mean) / Math.sqrt(var + eps) * params[ch] + params[c + ch];
                }
            }
        }
        return out;
    }

    static double maxAbs(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
