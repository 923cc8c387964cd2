package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/**
 * Floating-point types of a model: {@link #type} is what the forward and backward passes compute in
 * (parameters' working copies, activations, per-layer gradients), {@link #master} what the parameter
 * store and the loss are kept in. fp32 (default) and fp64 (exactness tests) compute in their master
 * type; bf16 and fp16 are mixed precision: fp32 master weights, a low-precision copy for compute, the
 * loss in fp32. Norms, clip factors and the clipped sum are float64 whatever the precision: every
 * per-layer tensor is cast up before any of them ({@link ClipBound}).
 */
enum Precision {
    FLOAT32("fp32", DataType.FLOAT32, DataType.FLOAT32),
    FLOAT64("fp64", DataType.FLOAT64, DataType.FLOAT64),
    BFLOAT16("bf16", DataType.BFLOAT16, DataType.FLOAT32),
    FLOAT16("fp16", DataType.FLOAT16, DataType.FLOAT32);

    /** The name of the {@code precision} setting. */
    final String key;
    /** Compute type. */
    final DataType type;
    /** Master type: parameter store and loss. */
    final DataType master;

    Precision(String key, DataType type, DataType master) {
        this.key = key;
        this.type = type;
        this.master = master;
    }

    /** Whether compute runs in a narrower type than the master weights. */
    boolean mixed() {
        return type != master;
    }

    /**
     * Reads setting {@code precision} (fp32, fp64, bf16, fp16) or its older spelling {@code dtype}
     * (float32, float64); model settings win over backend settings. Naming both at one level is refused
     * unless they agree, so a config can never say two things.
     */
    static Precision from(Map<String, String> modelSettings, Map<String, String> backendSettings) {
        Precision p = atLevel(modelSettings);
        if (p == null) p = atLevel(backendSettings);
        return p == null ? FLOAT32 : p;
    }

    private static Precision atLevel(Map<String, String> settings) {
        String precision = settings.get("precision");
        String dtype = settings.get("dtype");
        Precision p = precision == null ? null : parse("precision", precision);
        Precision d = dtype == null ? null : parse("dtype", dtype);
        if (d != null && d.mixed()) {
            throw new IllegalArgumentException(
                    "setting dtype takes float32 or float64, got '" + dtype + "'; use precision: " + d.key);
        }
        if (p != null && d != null && p != d) {
            throw new IllegalArgumentException("settings precision: " + precision + " and dtype: " + dtype
                    + " disagree; set only precision (dtype is its older name)");
        }
        return p != null ? p : d;
    }

    private static Precision parse(String key, String v) {
        return switch (v.trim().toLowerCase()) {
            case "float32", "fp32", "f32" -> FLOAT32;
            case "float64", "fp64", "f64", "double" -> FLOAT64;
            case "bf16", "bfloat16" -> BFLOAT16;
            case "fp16", "float16", "half" -> FLOAT16;
            default ->
                throw new IllegalArgumentException(
                        "setting " + key + " must be fp32, fp64, bf16 or fp16, got '" + v + "'");
        };
    }

    /** Copies {@code len} floats of {@code src} from {@code off} into a new array of the master type. */
    NDArray create(NDManager m, float[] src, int off, int len, Shape shape) {
        if (master == DataType.FLOAT32) {
            float[] a = new float[len];
            System.arraycopy(src, off, a, 0, len);
            return m.create(a, shape);
        }
        double[] a = new double[len];
        for (int i = 0; i < len; i++) a[i] = src[off + i];
        return m.create(a, shape);
    }

    /** A new array of the master type. */
    NDArray create(NDManager m, double[] src, Shape shape) {
        if (master == DataType.FLOAT64) return m.create(src, shape);
        float[] a = new float[src.length];
        for (int i = 0; i < src.length; i++) a[i] = (float) src[i];
        return m.create(a, shape);
    }

    /** {@code x} (of the master type) in the compute type: itself unless mixed, else a rounded copy. */
    NDArray toCompute(NDArray x) {
        return mixed() ? x.toType(type, true) : x;
    }

    /** Copies the array to the host as floats at {@code off} of {@code dst}. */
    static void copyOut(NDArray x, float[] dst, int off) {
        if (x.getDataType() == DataType.FLOAT32) {
            float[] a = x.toFloatArray();
            System.arraycopy(a, 0, dst, off, a.length);
        } else {
            double[] a = x.toType(DataType.FLOAT64, false).toDoubleArray();
            for (int i = 0; i < a.length; i++) dst[off + i] = (float) a[i];
        }
    }

    /**
     * {@code x} in float32 or float64, whichever is wider than or as wide as its type (a 16-bit array is
     * cast up, exactly): the type a per-sample gradient is formed in ({@link Conv2dRule}).
     */
    static NDArray atLeast32(NDArray x) {
        DataType t = x.getDataType();
        return t == DataType.FLOAT64 || t == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    }

    /** {@code x} in float64 (itself if it already is): clipping arithmetic always runs in float64. */
    static NDArray f64(NDArray x) {
        return x.getDataType() == DataType.FLOAT64 ? x : x.toType(DataType.FLOAT64, false);
    }

    /**
     * Log-softmax over axis 1, in fp32 when {@code logits} are 16-bit (as autocast does). The cast is
     * torch's own log_softmax(dtype) argument, which autograd records; DJL's toType runs without grad
     * and would cut the loss off from the network.
     */
    static NDArray logSoftmax(NDArray logits) {
        DataType t = logits.getDataType();
        if (t != DataType.FLOAT16 && t != DataType.BFLOAT16) return logits.logSoftmax(1);
        return ai.djl.pytorch.jni.JniUtils.logSoftmax((ai.djl.pytorch.engine.PtNDArray) logits, 1, DataType.FLOAT32);
    }

    static double[] toDoubles(NDArray x) {
        return x.toType(DataType.FLOAT64, false).toDoubleArray();
    }
}
