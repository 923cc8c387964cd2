package org.dpsgd.kit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.djl.DjlBackend;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * The GPU kit's parity check (bench/gpu/run.sh): every clipping strategy of the DJL backend, in float64 and
 * float32 on the device under test, against the CPU float64 microbatch reference (the strategy that the
 * finite-difference oracle test pins down) on the same batch: per-sample gradient norms, the number of
 * clipped samples and the clipped sum; and for every non-float64 type, that an example moved to another slot
 * among other neighbours keeps its norm bit for bit (the clip bound's premise for formed gradients). It is the GPU counterpart of StrategyExactnessTest, which runs on
 * the CPU only.
 *
 * <p>Usage: {@code GpuParity --device gpu|cpu [--quick] [--half bf16,fp16|none]}. Prints one line per comparison
 * and a summary; exits 1 if any comparison is outside its tolerance, 2 on bad arguments. float32 tolerances allow
 * for TF32 convolutions, which cuDNN uses for float32 by default on Ampere and later GPUs (the measured errors
 * are printed, so the report shows what they really were).
 *
 * <p>Mixed precision ({@code --half}, default bf16,fp16 on a GPU and none with {@code --quick}): the same
 * comparisons with tolerance r·u (u = 2^−8 bf16, 2^−11 fp16; r = 32 for the small nets, 128 for wrn16-4 and
 * resnet18-gn, 256 for resnet50-gn: about the roundings on a gradient's path, as in the backend's
 * MixedPrecisionTest), the clipped sum's error relative to Σ‖clipped g_i‖, and no clipped-count equality
 * (16-bit norms may cross C where the float64 ones do not).
 */
public final class GpuParity {
    private static final double F64_NORM_TOL = 1e-7;
    private static final double F64_SUM_TOL = 1e-6; // the sum travels back as float32
    private static final double F32_TOL = 5e-3;

    record Case(String label, ModelSpec spec, String input, int slots, int padded) {}

    private GpuParity() {}

    /**
     * Runs every comparison and exits 0 (all within tolerance), 1 (some not) or 2 (bad arguments).
     *
     * @param args {@code --device gpu|gpu:N|cpu} and optionally {@code --quick} (the small models only)
     * @throws Exception when the engine cannot start
     */
    public static void main(String[] args) throws Exception {
        String device = null;
        boolean quick = false;
        String half = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = i + 1 < args.length ? args[++i] : null;
                case "--quick" -> quick = true;
                case "--half" -> half = i + 1 < args.length ? args[++i] : null;
                default -> usage("unknown argument '" + args[i] + "'");
            }
        }
        if (device == null) usage("--device is required");
        if (half == null) half = quick ? "none" : "bf16,fp16";
        List<String> halves = half.equals("none") ? List.of() : List.of(half.split(","));
        for (String h : halves) if (!h.equals("bf16") && !h.equals("fp16")) usage("--half takes bf16, fp16 or none");
        System.exit(run(device, quick, halves) ? 0 : 1);
    }

    private static void usage(String problem) {
        System.err.println("error: " + problem + "; usage: GpuParity --device gpu|gpu:N|cpu [--quick]");
        System.exit(2);
    }

    static List<Case> cases(boolean quick) {
        List<Case> cs = new ArrayList<>();
        cs.add(new Case("small-cnn 1x28x28", ModelSpec.of("small-cnn"), "1x28x28", 6, 2));
        cs.add(new Case("fmnist-cnn 1x28x28", ModelSpec.of("fmnist-cnn"), "1x28x28", 6, 3));
        cs.add(new Case("wrn16-4-ws 3x8x8", new ModelSpec("wrn16-4", null, null, null, true), "3x8x8", 3, 1));
        if (!quick) {
            cs.add(new Case("resnet18-gn 3x32x32", ModelSpec.of("resnet18-gn"), "3x32x32", 4, 1));
            cs.add(new Case("resnet50-gn 3x64x64", ModelSpec.of("resnet50-gn"), "3x64x64", 3, 0));
        }
        return cs;
    }

    static boolean run(String device, boolean quick) {
        return run(device, quick, List.of());
    }

    /** Unit roundoff of a 16-bit precision. */
    static double unitRoundoff(String precision) {
        return precision.equals("bf16") ? 0x1p-8 : 0x1p-11;
    }

    /** About the number of roundings on a gradient's path through the case's network. */
    static int roundings(Case c) {
        return c.label().startsWith("resnet50") ? 256 : c.label().contains("cnn") ? 32 : 128;
    }

    static boolean run(String device, boolean quick, List<String> halves) {
        long t0 = System.nanoTime();
        int failures = 0;
        int checks = 0;
        try (DjlBackend cpu = new DjlBackend(new BackendOptions("cpu", Map.of()));
             DjlBackend dut = device.equals("cpu") ? null : new DjlBackend(new BackendOptions(device, Map.of()))) {
            DjlBackend target = dut == null ? cpu : dut;
            System.out.println("parity: reference cpu float64 microbatch; device under test " + target.device()
                    + "; versions " + target.versions());
            for (Case c : cases(quick)) {
                Network net = ModelZoo.build(c.spec(), Shape.parse(c.input()), 10);
                DeviceBatch batch = batch(net, c.slots(), 11, c.padded());
                double[] refNorms;
                BatchStats refStats;
                float[] refSum = new float[(int) net.parameterCount()];
                double clip;
                try (TrainableModel ref = model(cpu, net, "microbatch", "float64")) {
                    refNorms = ref.perSampleGradientNorms(batch);
                    clip = midpointBelowMedian(realOnly(refNorms, batch));
                    refStats = ref.accumulateClipped(batch, clip);
                    ref.drainGradientSum(refSum);
                }
                List<String> dtypes = new ArrayList<>(List.of("float64", "float32"));
                dtypes.addAll(halves);
                for (String dtype : dtypes) {
                    if (!dtype.equals("float64")) {
                        checks++;
                        if (!samePositionBits(target, net, c, dtype)) failures++;
                    }
                    boolean mixed = halves.contains(dtype);
                    for (String strategy : List.of("microbatch", "bookkeeping")) {
                        checks++;
                        try (TrainableModel m = model(target, net, strategy, dtype)) {
                            double[] norms = m.perSampleGradientNorms(batch);
                            BatchStats stats = m.accumulateClipped(batch, clip);
                            float[] sum = new float[refSum.length];
                            m.drainGradientSum(sum);
                            double normErr = maxRelativeError(realOnly(norms, batch), realOnly(refNorms, batch));
                            double sumErr = mixed ? absoluteError(sum, refSum) / terms(refNorms, batch, clip)
                                    : relativeError(sum, refSum);
                            double halfTol = mixed ? roundings(c) * unitRoundoff(dtype) : 0;
                            double normTol = mixed ? halfTol : dtype.equals("float64") ? F64_NORM_TOL : F32_TOL;
                            double sumTol = mixed ? halfTol : dtype.equals("float64") ? F64_SUM_TOL : F32_TOL;
                            boolean ok = normErr <= normTol && sumErr <= sumTol
                                    && (mixed || stats.clipped() == refStats.clipped())
                                    && stats.samples() == refStats.samples() && stats.nonFinite() == 0;
                            if (!ok) failures++;
                            System.out.printf("parity: %-22s %-7s %-11s norms max rel err %.2e (tol %.1e)  clipped sum rel err %.2e (tol %.1e)"
                                            + "  clipped %d/%d (ref %d/%d)  %s%n", c.label(), dtype, strategy, normErr, normTol, sumErr,
                                    sumTol, stats.clipped(), stats.samples(), refStats.clipped(), refStats.samples(), ok ? "PASS" : "FAIL");
                        } catch (RuntimeException e) {
                            failures++;
                            System.out.printf("parity: %-22s %-7s %-11s FAIL: %s%n", c.label(), dtype, strategy, e);
                        }
                    }
                }
            }
        }
        System.out.printf("parity: %d of %d comparisons passed in %.1f s%n", checks - failures, checks, (System.nanoTime() - t0) / 1e9);
        return failures == 0;
    }

    /**
     * The premise of the clip bound's formed path (docs/core.md, "Float margin", item 2): an example's norm is
     * the same bit for bit in another slot beside other neighbours. A device kernel that splits a batched
     * reduction by batch position would break it; the CPU passes (the backend's SlotPositionTest).
     */
    static boolean samePositionBits(DjlBackend target, Network net, Case c, String dtype) {
        DeviceBatch first = batch(net, c.slots(), 11, c.padded());
        DeviceBatch moved = batch(net, c.slots(), 12, c.padded());
        int from = c.padded() == 0 ? 1 : 0;
        int to = c.slots() - 1 == c.padded() ? c.slots() - 2 : c.slots() - 1;
        int per = first.inputs().length / c.slots();
        System.arraycopy(first.inputs(), from * per, moved.inputs(), to * per, per);
        moved.labels()[to] = first.labels()[from];
        try (TrainableModel m = model(target, net, "bookkeeping", dtype)) {
            double a = m.perSampleGradientNorms(first)[from];
            double b = m.perSampleGradientNorms(moved)[to];
            boolean ok = Double.doubleToLongBits(a) == Double.doubleToLongBits(b);
            System.out.printf("parity: %-22s %-7s position    slot %d -> %d among other neighbours: norm %s vs %s  %s%n",
                    c.label(), dtype, from, to, a, b, ok ? "PASS" : "FAIL");
            return ok;
        } catch (RuntimeException e) {
            System.out.printf("parity: %-22s %-7s position    FAIL: %s%n", c.label(), dtype, e);
            return false;
        }
    }

    static TrainableModel model(DjlBackend backend, Network net, String strategy, String precision) {
        return backend.createModel(net, new ModelOptions(strategy, BatchLayout.of(8), List.of(), Map.of("precision", precision, "seed", "7")));
    }

    /** Σ over real slots of min(norm, C): the size of the clipped terms, what a 16-bit sum's error is relative to. */
    static double terms(double[] norms, DeviceBatch b, double clip) {
        double t = 0;
        for (int i = 0; i < norms.length; i++) if (b.mask()[i] != 0f) t += Math.min(norms[i], clip);
        return t;
    }

    static double absoluteError(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
        return Math.sqrt(s);
    }

    /** Gaussian inputs, uniform labels, one padding slot (mask 0): the same recipe as the backend's exactness tests. */
    static DeviceBatch batch(Network net, int slots, long seed, int padded) {
        DeviceBatch b = new DeviceBatch(net.input(), slots, 1);
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = b.inputs();
        for (int i = 0; i < x.length; i++) {
            double u = 1 - r.nextDouble();
            x[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        for (int s = 0; s < slots; s++) {
            b.labels()[s] = r.nextInt(net.numClasses());
            b.mask()[s] = 1f;
            b.exampleIds()[s] = s;
        }
        b.mask()[padded] = 0f;
        b.exampleIds()[padded] = -1;
        return b;
    }

    static double[] realOnly(double[] v, DeviceBatch b) {
        return java.util.stream.IntStream.range(0, v.length).filter(i -> b.mask()[i] != 0f).mapToDouble(i -> v[i]).toArray();
    }

    /** A clip norm between two sample norms, so about half the samples are clipped. */
    static double midpointBelowMedian(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return 0.5 * (s[m - 1] + s[m]);
    }

    static double maxRelativeError(double[] a, double[] b) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-300));
        return worst;
    }

    static double relativeError(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }
}
