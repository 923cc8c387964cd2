package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.dpsgd.UserError;

/**
 * Refuses a 16-bit precision the engine or device cannot run, before any training starts: never a
 * silent fall-back to fp32, never a crash mid-run. Two checks, each once per process and device:
 *
 * <ol>
 *   <li>bf16 only: whether DJL's JNI library maps the type at all. DJL 0.36's own build does not (it
 *       answers an unknown type with a bare C++ {@code throw;}, which terminates the JVM), so this runs
 *       in a child JVM ({@link #main}); the GPU kit's build-jni.sh builds a JNI library that does.
 *   <li>A forward and backward of every op the lowered networks use (conv, layer norm, linear,
 *       pooling, activations, matmul, casts) in the compute type on the device; an engine error names
 *       the op the device lacks.
 * </ol>
 */
final class PrecisionSupport {
    private static final Map<String, String> PROBLEMS = new ConcurrentHashMap<>();

    private PrecisionSupport() {}

    /** @throws UserError naming the precision, the device and the way out, when it cannot run. */
    static void check(Precision p, Device device) {
        if (!p.mixed()) return;
        String key = p + "@" + device;
        String problem = PROBLEMS.computeIfAbsent(key, k -> problem(p, device));
        if (!problem.isEmpty()) {
            String where = device.isGpu() ? "gpu:" + device.getDeviceId() : "cpu";
            throw new UserError("precision " + p.key + " is not available on " + where + " with PyTorch "
                    + Engine.getEngine("PyTorch").getVersion() + ": " + problem
                    + "; use precision fp32 (or see docs/djl.md, \"Mixed precision\")");
        }
    }

    private static String problem(Precision p, Device device) {
        if (p == Precision.BFLOAT16) {
            String mapping = childProbe();
            if (!mapping.isEmpty()) return mapping;
        }
        try {
            opBattery(p.type, device);
            return "";
        } catch (RuntimeException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return "the engine refused a " + p.key + " op ("
                    + msg.lines().findFirst().orElse(msg) + ")";
        }
    }

    /** Every op kind the lowered networks and taps run, forward and backward, in {@code type}. */
    static void opBattery(DataType type, Device device) {
        ModelRuntime.withGrad(() -> {
            try (NDManager m = NDManager.newBaseManager(device)) {
                NDArray x = m.arange(2 * 3 * 6 * 6).reshape(2, 3, 6, 6).div(100).toType(type, false);
                NDArray w = m.ones(new Shape(4, 3, 3, 3)).mul(0.1).toType(type, false);
                w.setRequiresGradient(true);
                NDArray b = m.zeros(new Shape(4), type);
                NDArray y = ai.djl.nn.convolutional.Conv2d.conv2d(
                                x, w, b, new Shape(2, 2), new Shape(1, 1), new Shape(1, 1), 1)
                        .singletonOrThrow();
                NDArray n = ai.djl.nn.norm.LayerNorm.layerNorm(
                                y.reshape(2, 2, -1),
                                new Shape(18),
                                m.ones(new Shape(18), type),
                                m.zeros(new Shape(18), type),
                                1e-5f)
                        .singletonOrThrow()
                        .reshape(2, 4, 3, 3);
                NDArray a = ai.djl.nn.Activation.relu(n).tanh();
                NDArray pooled =
                        ai.djl.nn.pooling.Pool.maxPool2d(a, new Shape(2, 2), new Shape(1, 1), new Shape(0, 0), false);
                NDArray g = pooled.reshape(2, 4, -1).mean(new int[] {2});
                NDArray fc = m.ones(new Shape(3, 4)).toType(type, false);
                NDArray logits = ai.djl.nn.core.Linear.linear(g, fc, m.zeros(new Shape(3), type))
                        .singletonOrThrow();
                NDArray loss = Precision.logSoftmax(logits).sum();
                ai.djl.pytorch.jni.JniUtils.backward(
                        (ai.djl.pytorch.engine.PtNDArray) loss,
                        (ai.djl.pytorch.engine.PtNDArray) m.ones(loss.getShape(), loss.getDataType()),
                        false,
                        false);
                NDArray grad = w.getGradient();
                if (grad.getDataType() != type)
                    throw new IllegalStateException("gradient came back as " + grad.getDataType());
                NDArray u = x.reshape(2, -1);
                double s = Precision.toDoubles(u.matMul(u.transpose()).sum())[0] + Precision.toDoubles(grad.sum())[0];
                if (!Double.isFinite(s)) throw new IllegalStateException("non-finite probe result " + s);
                return null;
            }
        });
    }

    /** Runs {@link #main} in a child JVM: "" if it converted an array to bf16 and back, else why not. */
    private static String childProbe() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current()
                .info()
                .command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java"));
        // The engine's location may come from system properties as well as the environment (inherited).
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith("ai.djl")
                    || k.startsWith("PYTORCH_")
                    || k.startsWith("jna.")
                    || k.endsWith("CACHE_DIR")
                    || k.equals("offline")) {
                cmd.add("-D" + k + "=" + System.getProperty(k));
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PrecisionSupport.class.getName()));
        try {
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            proc.getOutputStream().close();
            byte[] out = proc.getInputStream().readAllBytes();
            if (!proc.waitFor(120, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                return "the bf16 probe did not finish in 120 s";
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (proc.exitValue() == 0 && text.contains(PROBE_OK)) return "";
            return "DJL's PyTorch JNI library does not map bfloat16 (DJL 0.36's own build does not; the GPU kit's"
                    + " bench/gpu/build-jni.sh builds one that does)";
        } catch (IOException e) {
            return "the bf16 probe could not start a JVM (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing bf16";
        }
    }

    private static final String PROBE_OK = "dpsgd-bf16-probe-ok";

    /**
     * The child JVM of the bf16 check: converts an array to bf16 and back on the CPU. With a JNI
     * library that does not know bf16 this process dies in native code, which is the point.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray x = m.create(new float[] {1.5f, -2.25f});
            NDArray h = x.toType(DataType.BFLOAT16, false);
            float[] back = h.toType(DataType.FLOAT32, false).toFloatArray();
            if (h.getDataType() == DataType.BFLOAT16 && back[0] == 1.5f && back[1] == -2.25f) {
                System.out.println(PROBE_OK);
                System.exit(0);
            }
            System.out.println("bf16 round trip gave " + h.getDataType() + " " + back[0] + ", " + back[1]);
        }
        System.exit(1);
    }
}
