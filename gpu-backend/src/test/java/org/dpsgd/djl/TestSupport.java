package org.dpsgd.djl;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.model.Network;

/** Shared helpers: one backend per test JVM, seeded random batches, error measures. */
final class TestSupport {
    private TestSupport() {}

    private static DjlBackend backend;

    static synchronized DjlBackend backend() {
        if (backend == null) backend = new DjlBackend(BackendOptions.cpu());
        return backend;
    }

    /**
     * Whether this machine is one where MKL documents its strict mode (an Intel CPU, MKL present): where the tests of
     * the clip bound's slot premise assert it. Elsewhere the backend's probe decides when it opens (docs/core.md).
     */
    static boolean mklHasStrictMode() {
        backend(); // DJL knows libtorch's folder only once the engine has loaded
        try {
            boolean intel = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/cpuinfo"))
                    .contains("GenuineIntel");
            return intel && MklStrictMode.mode() != -1;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** A model in {@code precision} (fp32/float32, fp64/float64, bf16, fp16), parameters from seed 7. */
    static DjlTrainableModel model(Network net, String strategy, String precision, List<String> frozen) {
        return model(net, strategy, Map.of("precision", precision, "seed", "7"), frozen);
    }

    static DjlTrainableModel model(Network net, String strategy, Map<String, String> settings, List<String> frozen) {
        ModelOptions o = new ModelOptions(strategy, BatchLayout.of(8), frozen, settings);
        return (DjlTrainableModel) backend().createModel(net, o);
    }

    /**
     * Whether this process's engine runs {@code precision} on the CPU; false (with the reason printed) when the
     * backend refuses it, e.g. bf16 with DJL's own JNI library, which has no bfloat16 (docs/djl.md).
     */
    static boolean supports(String precision) {
        try {
            PrecisionSupport.check(Precision.from(Map.of("precision", precision), Map.of()), ai.djl.Device.cpu());
            return true;
        } catch (org.dpsgd.UserError e) {
            System.err.println("skipping " + precision + ": " + e.getMessage());
            return false;
        }
    }

    /** A model whose per-layer rules take the given paths (ghost/explicit norm, unfold), on the CPU. */
    static DjlTrainableModel model(Network net, String strategy, String dtype, List<String> frozen, RuleOptions rules) {
        backend(); // loads the engine and applies the thread settings once
        ModelOptions o = new ModelOptions(strategy, BatchLayout.of(8), frozen, Map.of("precision", dtype, "seed", "7"));
        return new DjlTrainableModel(net, o, ai.djl.Device.cpu(), BackendOptions.cpu(), rules);
    }

    /** Gaussian inputs times {@code scale}; labels uniform; the listed slots are padding. */
    static DeviceBatch batch(Network net, int slots, int copies, long seed, double scale, int... padded) {
        DeviceBatch b = new DeviceBatch(net.input(), slots, copies);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = b.inputs();
        for (int i = 0; i < x.length; i++) x[i] = (float) (gaussian(r) * scale);
        for (int s = 0; s < slots; s++) {
            b.labels()[s] = r.nextInt(net.numClasses());
            b.mask()[s] = 1f;
            b.exampleIds()[s] = s;
        }
        for (int p : padded) {
            b.mask()[p] = 0f;
            b.exampleIds()[p] = -1;
        }
        return b;
    }

    static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** ‖a − b‖ / ‖b‖ in double. */
    static double relativeError(float[] a, float[] b) {
        return org.dpsgd.testing.Numerics.relativeError(a, b); // shared with the IPU parity tests (common's test jar)
    }

    static double maxRelativeError(double[] a, double[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            double den = Math.max(Math.abs(b[i]), 1e-300);
            worst = Math.max(worst, Math.abs(a[i] - b[i]) / den);
        }
        return worst;
    }

    /** A clip norm between two sample norms (never equal to one), so about half the samples are clipped. */
    static double midpointBelowMedian(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        int m = s.length / 2;
        return 0.5 * (s[m - 1] + s[m]);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }
}
